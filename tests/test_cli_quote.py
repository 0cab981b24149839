"""`qtau quote FILE --executor ...` and the price-table check of `qtau doctor`, run as users run
them (a subprocess of the installed module)."""

import json
import os
import subprocess
import sys

BELL_QASM = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nh q[0];\ncx q[0],q[1];\nmeasure q -> c;\n'


def qtau(*args: str, plugins: str = "qiskit") -> subprocess.CompletedProcess:
    env = {**os.environ, "QTAU_PLUGINS": plugins}
    return subprocess.run([sys.executable, "-m", "qtau.cli", *args], capture_output=True, text=True,
                          timeout=240, env=env)


def test_quote_prints_a_table_and_json(tmp_path):
    path = tmp_path / "bell.qasm"
    path.write_text(BELL_QASM)
    out = qtau("quote", str(path), "--executor", "qiskit_local", "--shots", "500")
    assert out.returncode == 0, out.stderr
    assert "QTAU quote: 1 task(s)" in out.stdout and "chosen qiskit:aer_simulator" in out.stdout
    assert "qiskit:basic_simulator" in out.stdout and "total: 0 USD" in out.stdout
    out = qtau("quote", str(path), "--executor", "qiskit_local", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["tasks"][0]["chosen"] == "qiskit:aer_simulator" and data["tasks"][0]["shots"] == 1000
    assert {line["origin"] for line in data["tasks"][0]["lines"]} == {"free"}


def test_quote_of_a_missing_file_is_a_clear_error(tmp_path):
    out = qtau("quote", str(tmp_path / "nope.qasm"), "--executor", "qiskit_local")
    assert out.returncode == 2 and "cannot read" in out.stderr and "Traceback" not in out.stderr


def test_doctor_warns_about_old_price_tables():
    out = qtau("doctor", plugins="qiskit,ibmq,braket")
    assert "warning: price table qtau-ibmq pricing.json is" in out.stdout
    assert "warning: price table qtau-braket prices.json is" in out.stdout
