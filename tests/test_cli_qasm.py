"""A malformed OpenQASM FILE (issue 21): `qtau run`/`rank` exit 2 before any ranking, naming the
file and the line, with a fix that says what to correct; valid files, dialects included, still run."""

import json
import os
import subprocess
import sys

import pytest
from qtau.cli.qasm_check import locate

GOOD3_BRAKET_DIALECT = "OPENQASM 3.0;\nqubit[2] q;\nbit[2] b;\nh q[0];\ncnot q[0], q[1];\nb = measure q;\n"


def qtau(*args: str, plugins: str = "qiskit,braket,pennylane") -> subprocess.CompletedProcess:
    env = {**os.environ, "QTAU_PLUGINS": plugins}
    return subprocess.run([sys.executable, "-m", "qtau.cli", *args], capture_output=True, text=True,
                          timeout=240, env=env)


def assert_names_file_and_line(out: subprocess.CompletedProcess, path, line: int, *expected: str) -> str:
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert out.stdout == ""  # no ranking printed before the error
    [message] = out.stderr.strip().splitlines()
    assert message.startswith(f"error: FILE {path}, line {line}: ") and "Traceback" not in out.stderr
    assert "<input>" not in message and "check the circuit uses gates" not in message
    for text in expected:
        assert text in message, message
    return message


@pytest.mark.parametrize("command", ["run", "rank", "quote"])
def test_openqasm2_syntax_error_names_file_and_line(tmp_path, command):
    path = tmp_path / "bad.qasm"
    path.write_text('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nh q[0];\n'
                    'cx q[0] q[1];\nmeasure q -> c;\n')
    message = assert_names_file_and_line(qtau(command, str(path)), path, 6, "OpenQASM 2 syntax error",
                                         "`cx q[0] q[1];`")
    assert f"Fix: correct line 6 of {path}" in message


def test_openqasm3_syntax_error_names_the_users_line(tmp_path):
    # Line numbers are the file's own, although readers add the standard library to the text.
    path = tmp_path / "bad3.qasm"
    path.write_text("OPENQASM 3.0;\nqubit[2] q;\nh q[0]\ncx q[0], q[1];\n")
    message = assert_names_file_and_line(qtau("run", str(path)), path, 4, "OpenQASM 3 syntax error",
                                         "unexpected `cx`")
    assert f"correct line 4 of {path} (or the statement before it" in message


def test_file_that_ends_too_early(tmp_path):
    path = tmp_path / "short.qasm"
    path.write_text("OPENQASM 3.0;\nqubit[2] q;\nh q[0];\ncx q[0], q[1]\n")
    assert_names_file_and_line(qtau("rank", str(path)), path, 5, "the file ends too early")


def test_undefined_gate_names_file_and_line(tmp_path):
    path = tmp_path / "undefined.qasm"
    path.write_text('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nfoo q[0];\nmeasure q -> c;\n')
    message = assert_names_file_and_line(qtau("run", str(path), plugins="qiskit"), path, 5,
                                         "gate 'foo' is used but not defined")
    assert "Fix: define `gate foo ...`" in message


def test_valid_braket_dialect_is_not_refused(tmp_path):
    path = tmp_path / "braket.qasm"
    path.write_text(GOOD3_BRAKET_DIALECT)
    out = qtau("run", str(path), "--shots", "40")
    assert out.returncode == 0, out.stderr
    assert "counts (qubit 0 rightmost):" in out.stdout


def test_a_file_saved_with_a_byte_order_mark_and_windows_line_ends_runs(tmp_path):
    # Windows editors save UTF-8 with a BOM; the file was refused as "not OpenQASM", though it
    # starts with `OPENQASM 2.0;` as far as its author can see.
    path = tmp_path / "bom.qasm"
    path.write_bytes(b'\xef\xbb\xbfOPENQASM 2.0;\r\ninclude "qelib1.inc";\r\nqreg q[2];\r\ncreg c[2];\r\n'
                     b"x q[0];\r\nmeasure q -> c;\r\n")
    out = qtau("run", str(path), "--shots", "40", "-e", "qiskit_local", "--json", plugins="qiskit")
    assert out.returncode == 0, out.stderr
    [task] = json.loads(out.stdout)["tasks"]
    assert task["circuit_format"] == "openqasm2" and task["result"]["counts"] == {"01": 40}
    quoted = qtau("quote", str(path), "-e", "qiskit_local", "--json", plugins="qiskit")
    assert quoted.returncode == 0, quoted.stderr
    assert json.loads(quoted.stdout)["tasks"][0]["chosen"]


def test_locate_reads_qiskit_and_antlr_positions():
    class Token:
        line, column, text = 7, 2, "cx"

    class Mismatch(Exception):
        offendingToken = Token()

    try:
        try:
            raise Exception(Mismatch())
        except Exception as inner:
            raise ValueError("parse failed") from inner
    except ValueError as err:
        found = locate(err, "p")
    assert (found.line, found.message) == (7, "unexpected `cx`")
    qiskit_style = locate(RuntimeError("<input>:3,4: needed a semicolon"), "q")
    assert (qiskit_style.line, qiskit_style.message) == (3, "needed a semicolon")
    assert locate(RuntimeError("the SDK broke"), "q") is None
