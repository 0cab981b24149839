"""`qtau quote FILE --executor ...` and the price-table check of `qtau doctor`, run as users run
them (a subprocess of the installed module)."""

import json
import os
import subprocess
import sys

import pytest

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
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "error: FILE" in out.stderr and "nope.qasm' does not exist" in out.stderr  # as `qtau run` says it


def test_quote_of_a_python_function_prices_the_circuit_it_returns(tmp_path):
    # `qtau run` takes module.py:function; `qtau quote` said "cannot read ...: No such file or
    # directory" of the same argument.
    module = tmp_path / "circuits.py"
    module.write_text("def bell():\n    return " + repr(BELL_QASM) + "\n")
    out = qtau("quote", f"{module}:bell", "--executor", "qiskit_local", "--shots", "300", "--json")
    assert out.returncode == 0, out.stderr
    [task] = json.loads(out.stdout)["tasks"]
    assert task["chosen"] == "qiskit:aer_simulator" and task["shots"] == 300
    missing = qtau("quote", f"{module}:nosuch", "--executor", "qiskit_local")
    assert missing.returncode == 2 and "has no function 'nosuch'" in missing.stderr


def test_doctor_warns_about_old_price_tables():
    out = qtau("doctor", plugins="qiskit,ibmq,braket")
    assert "warning: price table qtau-ibmq pricing.json is" in out.stdout
    assert "warning: price table qtau-braket prices.json is" in out.stdout


# -- issue 21: quotes without --executor, and offline from the shipped price tables --------------

def no_credentials(tmp_path) -> dict:
    """The environment of a user with no AWS or IBM credentials anywhere (HOME has no saved ones)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_ACCESS", "AWS_SECRET", "AWS_SESSION", "AWS_PROFILE", "IBMQX", "QISKIT_IBM"))}
    env.update({"HOME": str(tmp_path), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
                "AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_EC2_METADATA_DISABLED": "true"})
    return env


def quote_offline(tmp_path, *args: str, plugins: str = "qiskit,braket,ibmq") -> subprocess.CompletedProcess:
    path = tmp_path / "bell.qasm"
    path.write_text(BELL_QASM)
    env = {**no_credentials(tmp_path), "QTAU_PLUGINS": plugins}
    return subprocess.run([sys.executable, "-m", "qtau.cli", "quote", str(path), *args], capture_output=True,
                          text=True, timeout=240, env=env)


def test_quote_without_executor_quotes_the_local_simulators_as_its_help_says(tmp_path):
    path = tmp_path / "bell.qasm"
    path.write_text(BELL_QASM)
    help_text = qtau("quote", "--help").stdout
    assert "default: every installed local simulator" in " ".join(help_text.split())
    out = qtau("quote", str(path), "--json", plugins="qiskit,braket")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert set(doc["sources"]) == {"qiskit_local", "braket_local"}
    assert {line["resource_id"] for line in doc["tasks"][0]["lines"]} == {
        "qiskit:aer_simulator", "qiskit:basic_simulator", "braket:local_sv"}


def test_quote_braket_ionq_without_credentials_uses_the_shipped_price_table(tmp_path):
    out = quote_offline(tmp_path, "-e", "braket_ionq", "--shots", "100", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["sources"]["braket_ionq"].startswith("offline (no AWS credentials found")
    assert "prices.json" in doc["sources"]["braket_ionq"]
    [line] = doc["tasks"][0]["lines"]
    assert line["resource_id"] == "braket:arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1"
    assert line["feasible"] and line["offline"] and line["origin"] == "table"
    # prices.json: 0.30 USD per task + 0.08 USD per shot on IonQ Forte-1.
    assert line["price"] == pytest.approx(0.3 + 100 * 0.08) and line["currency"] == "USD"
    text = quote_offline(tmp_path, "-e", "braket_ionq", "--shots", "100")
    assert text.returncode == 0, text.stderr
    assert "source of braket_ionq: offline (no AWS credentials found" in text.stdout
    assert "table 2025-12-31 (offline)" in text.stdout and "8.3 USD" in text.stdout


def test_quote_ibmq_least_busy_without_credentials_prices_the_snapshot_devices(tmp_path):
    out = quote_offline(tmp_path, "-e", "ibmq_least_busy", "-e", "qiskit_local", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["sources"]["ibmq_least_busy"].startswith("offline (no IBM Quantum credentials")
    assert doc["sources"]["qiskit_local"].startswith("live")
    lines = {line["resource_id"]: line for line in doc["tasks"][0]["lines"]}
    devices = {rid for rid, line in lines.items() if line["offline"]}
    assert {"ibmq:ibm_brisbane", "ibmq:ibm_torino"} <= devices
    assert "ibmq:ibm_washington" not in devices  # a snapshot older than the fake provider's last refresh
    brisbane = lines["ibmq:ibm_brisbane"]
    assert brisbane["feasible"] and brisbane["origin"] == "table" and brisbane["price"] > 1.0
    assert doc["tasks"][0]["chosen"] == "qiskit:aer_simulator"  # free beats priced


def test_offline_flag_and_a_device_nothing_ships_data_for(tmp_path):
    out = quote_offline(tmp_path, "-e", "braket_iqm", "--offline", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["sources"]["braket_iqm"].startswith("offline (asked for)")
    unknown = quote_offline(tmp_path, "-e", "ibmq_nosuchdevice")
    assert unknown.returncode == 2 and "no IBM Quantum credentials" in unknown.stderr
    assert "Traceback" not in unknown.stderr


def test_building_offline_resources_imports_no_sdk():
    code = ("import sys; from qtau.plugins import PluginHost; h = PluginHost(strict=True); "
            "h.load_entry_points(allow={'braket'}); r = h.offline_resources('braket_ionq', {}); "
            "print(r[0].num_qubits, sorted(m for m in sys.modules if m.split('.')[0] in "
            "('boto3', 'botocore', 'braket', 'qiskit')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "36 []"
