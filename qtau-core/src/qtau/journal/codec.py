"""How the journal codes what it writes: plain JSON for job references, counts and metadata
(`Secret`s masked, unknown objects as redacted text), a task's summary and constraints (never its
arguments or credentials), a circuit's hash, and secret detection in pickled payloads and error
messages.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import attrs

from qtau.resource_request import request_of
from qtau.secrets import MASK, Secret, blob_holds_secret, redact
from qtau.secrets import holds_secret as text_holds_secret

#: Error messages are kept up to this many characters.
ERROR_CHARS = 500

def _plain(value: Any) -> Any:
    if isinstance(value, Secret):
        return MASK
    if attrs.has(type(value)):
        return {f.name: getattr(value, f.name) for f in attrs.fields(type(value)) if f.repr is not False}
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    tolist = getattr(value, "tolist", None)  # numpy arrays and scalars, without importing numpy
    if callable(tolist):
        return tolist()
    if isinstance(value, complex):
        return [value.real, value.imag]
    if isinstance(value, bytes):
        return value.hex()
    return redact(str(value))


#: One encoder for every call: `json.dumps(value, default=...)` builds a new one each time, which
#: took as long as encoding a result's counts (the journal encodes five values a task).
_ENCODER = json.JSONEncoder(default=_plain)


def to_json(value: Any) -> str | None:
    """JSON for a job reference, counts, values or metadata: Secrets masked, unknowns as text."""
    if value is None:
        return None
    try:
        text = _ENCODER.encode(value)
    except (TypeError, ValueError):  # keys JSON cannot hold (ints mixed with tuples, objects)
        text = _ENCODER.encode(_string_keys(value))
    # holds_secret agrees with redact (tested) and looks for a pattern only where its literal
    # part appears: most JSON is passed through after a few substring checks.
    return redact(text) if text_holds_secret(text) else text


def _string_keys(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _string_keys(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_string_keys(v) for v in value]
    return value


def from_json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def circuit_hash(circuit: Any) -> str | None:
    """sha256 of a circuit given as text (OpenQASM) or bytes; None for objects and factories.

    Hashing an SDK object would mean converting it on the submitting thread; the service can
    pass a hash it computed elsewhere instead."""
    if isinstance(circuit, str):
        circuit = circuit.encode()
    if isinstance(circuit, (bytes, bytearray)):
        return "sha256:" + hashlib.sha256(circuit).hexdigest()
    return None


def task_summary(task: Any) -> dict[str, Any]:
    """What the journal keeps of a QuantumTask: its shape and settings, never its arguments
    or its resource_config values (either may hold anything, credentials included) beyond the
    checked numeric resource request (num_qpus, num_cpus, num_gpus, memory)."""
    circuit = task.circuit
    kind = "factory" if callable(circuit) and not hasattr(circuit, "qubit_count") else "object"
    if isinstance(circuit, str):
        kind = "text"
    summary = {
        "circuit_type": f"{type(circuit).__module__}.{type(circuit).__qualname__}",
        "circuit_kind": kind,
        "circuit_format": task.circuit_format,
        "num_qubits": task.num_qubits,
        "gate_set": list(task.gate_set),
        "resource_config_keys": sorted(str(k) for k in task.resource_config),
        # Checked numbers only (see qtau.resource_request), so safe to keep.
        "resource_request": request_of(task.resource_config),
        "n_args": len(task.args) + len(task.kwargs),
    }
    policy = task.policy
    if isinstance(policy, str) or (isinstance(policy, Mapping) and all(
            isinstance(v, (int, float)) for v in policy.values())):
        summary["policy"] = policy
    pin = getattr(task, "resource", None)
    if isinstance(pin, str):
        summary["resource"] = pin
    elif pin is not None:
        summary["resource"] = getattr(pin, "name", None) or getattr(pin, "id", None) or type(pin).__name__
    return summary


def task_constraints(task: Any) -> dict[str, Any]:
    return {name: getattr(task, name) for name in ("max_cost", "min_fidelity", "deadline", "timeout")
            if getattr(task, name, None) is not None}


def holds_secret(blob: bytes) -> bool:
    """Whether any secret value this process knows, or a credential-shaped string, is in `blob`."""
    return blob_holds_secret(blob)


def redacted_error(error: BaseException | str | None) -> tuple[str | None, str | None]:
    if error is None:
        return None, None
    if isinstance(error, str):
        return "Error", redact(error)[:ERROR_CHARS]
    return type(error).__name__, redact(str(error))[:ERROR_CHARS]
