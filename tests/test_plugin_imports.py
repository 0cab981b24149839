"""Loading every installed plugin through its entry point imports no quantum SDK and no Ray.

Listing plugins (`qtau plugins`), their executors and the hook reference must stay cheap; SDKs load
only where circuits are built, converted or run.
"""

import json
import subprocess
import sys

HEAVY = ("qiskit", "qiskit_aer", "qiskit_ibm_runtime", "pennylane", "braket", "boto3", "ray", "numpy")


def test_loading_every_installed_plugin_imports_no_sdk():
    code = (
        "import json, sys\n"
        "from qtau.plugins import PluginHost\n"
        "host = PluginHost(strict=True)\n"
        "host.load_entry_points()\n"
        "infos = host.executors()\n"
        f"print(json.dumps({{'plugins': host.names, 'executors': len(infos), "
        f"'heavy': [m for m in {HEAVY!r} if m in sys.modules]}}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert {"qiskit", "ibmq", "scripted"} <= set(report["plugins"])
    assert report["executors"] >= len(report["plugins"])
    assert report["heavy"] == []
