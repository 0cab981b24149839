"""Device documents the offline Braket stub serves: GetDevice capabilities per device family.

They follow amazon-braket-schemas (the SDK parses them exactly as it parses AWS's answers) and
carry realistic shapes: execution windows, shots ranges, native gates, connectivity, and
calibration data (standardized per-qubit fidelities, or IonQ's provider means).
"""

from __future__ import annotations

import json
from typing import Any

OPENQASM = "braket.ir.openqasm.program"
SIM_OPS = ["ccnot", "cnot", "cphaseshift", "cswap", "cy", "cz", "h", "i", "iswap", "phaseshift", "rx",
           "ry", "rz", "s", "si", "swap", "t", "ti", "v", "vi", "x", "xx", "y", "yy", "z", "zz", "U", "ecr"]


def _header(name: str, version: str = "1") -> dict[str, str]:
    return {"name": f"braket.device_schema.{name}", "version": version}


def _service(windows: list[dict[str, str]] | None, shots: tuple[int, int], location: str) -> dict[str, Any]:
    return {
        "braketSchemaHeader": _header("device_service_properties"),
        "executionWindows": windows if windows is not None else [
            {"executionDay": "Everyday", "windowStartHour": "00:00", "windowEndHour": "23:59:59"}],
        "shotsRange": list(shots),
        "deviceCost": None, "deviceDocumentation": None, "deviceLocation": location,
        "updatedAt": "2025-01-01T00:00:00",
    }


def _action(ops: list[str]) -> dict[str, Any]:
    return {OPENQASM: {
        "actionType": OPENQASM, "version": ["1"], "supportedOperations": ops,
        "supportedModifiers": [{"name": "ctrl"}, {"name": "negctrl"}, {"name": "pow", "exponent_types": ["int", "float"]}, {"name": "inv"}],
        "supportedPragmas": [], "forbiddenPragmas": [],
        "supportedResultTypes": [{"name": "Sample", "observables": ["x", "y", "z", "h", "i"], "minShots": 1, "maxShots": 100000}],
    }}


def simulator(name: str, qubits: int, windows=None) -> dict[str, Any]:
    return {
        "braketSchemaHeader": _header("simulators.gate_model_simulator_device_capabilities"),
        "service": _service(windows, (1, 100000), "us-east-1"),
        "action": _action(SIM_OPS),
        "paradigm": {"braketSchemaHeader": _header("simulators.gate_model_simulator_paradigm_properties"),
                     "qubitCount": qubits},
        "deviceParameters": {},
    }


def _standardized(qubits: int, rb: float, readout: float, two_q: float, edges) -> dict[str, Any]:
    one = {str(q): {
        "T1": {"value": 30.0 + q, "standardError": None, "unit": "us"},
        "T2": {"value": 20.0 + q, "standardError": None, "unit": "us"},
        "oneQubitFidelity": [
            {"fidelityType": {"name": "RANDOMIZED_BENCHMARKING", "description": None}, "fidelity": rb, "standardError": None},
            {"fidelityType": {"name": "READOUT", "description": None}, "fidelity": readout, "standardError": None},
        ],
    } for q in range(qubits)}
    two = {f"{a}-{b}": {"twoQubitGateFidelity": [
        {"direction": None, "gateName": "CZ", "fidelity": two_q, "standardError": None,
         "fidelityType": {"name": "INTERLEAVED_RANDOMIZED_BENCHMARKING", "description": None}}]} for a, b in edges}
    return {"braketSchemaHeader": _header("standardized_gate_model_qpu_device_properties"),
            "oneQubitProperties": one, "twoQubitProperties": two}


def _paradigm(qubits: int, native: list[str], edges) -> dict[str, Any]:
    graph: dict[str, list[str]] = {}
    for a, b in edges or []:
        graph.setdefault(str(a), []).append(str(b))
    return {"braketSchemaHeader": _header("gate_model_qpu_paradigm_properties"), "qubitCount": qubits,
            "nativeGateSet": native,
            "connectivity": {"fullyConnected": not edges, "connectivityGraph": graph}}


def _line(qubits: int) -> list[tuple[int, int]]:
    return [(q, q + 1) for q in range(qubits - 1)]


def qpu(family: str, qubits: int, windows=None) -> dict[str, Any]:
    """Capabilities of a QPU of `family` (ionq, rigetti, iqm, oqc) with `qubits` qubits."""
    if family == "ionq":
        ops = ["x", "y", "z", "rx", "ry", "rz", "h", "cnot", "s", "si", "t", "ti", "v", "vi", "xx", "yy", "zz", "swap"]
        return {
            "braketSchemaHeader": _header("ionq.ionq_device_capabilities"),
            "service": _service(windows, (1, 5000), "us-east-1"), "action": _action(ops),
            "paradigm": _paradigm(qubits, ["GPI", "GPI2", "MS"], None),
            "provider": {"braketSchemaHeader": _header("ionq.ionq_provider_properties"),
                         "fidelity": {"1Q": {"mean": 0.9998}, "2Q": {"mean": 0.9952}, "spam": {"mean": 0.9937}},
                         "timing": {"T1": 100.0, "T2": 1.0, "1Q": 1.35e-4, "2Q": 6e-4, "readout": 3e-4, "reset": 2e-5}},
            "deviceParameters": {},
        }
    edges = _line(qubits)
    ops = {"rigetti": ["cz", "xy", "ccnot", "cnot", "cphaseshift", "cswap", "h", "i", "iswap", "phaseshift",
                       "rx", "ry", "rz", "s", "si", "swap", "t", "ti", "x", "y", "z"],
           "iqm": ["ccnot", "cnot", "cphaseshift", "cswap", "swap", "iswap", "cz", "h", "i", "phaseshift",
                   "rx", "ry", "rz", "s", "si", "t", "ti", "v", "vi", "x", "y", "z", "prx"],
           "oqc": ["ccnot", "cnot", "cphaseshift", "cswap", "cy", "cz", "h", "i", "phaseshift", "rx", "ry", "rz",
                   "s", "si", "swap", "t", "ti", "v", "vi", "x", "y", "z", "ecr"]}[family]
    native = {"rigetti": ["rx", "rz", "cz", "iswap"], "iqm": ["prx", "cz"], "oqc": ["ecr", "i", "rz", "v", "x"]}[family]
    doc = {
        "braketSchemaHeader": _header(f"{family}.{family}_device_capabilities", "2" if family == "rigetti" else "1"),
        "service": _service(windows, (1, 50000), "us-west-1"), "action": _action(ops),
        "paradigm": _paradigm(qubits, native, edges),
        "standardized": _standardized(qubits, 0.9985, 0.962, 0.985, edges),
        "deviceParameters": {},
    }
    return doc


def document(capabilities: dict[str, Any]) -> str:
    return json.dumps(capabilities)
