"""The shot and memory limits a resource states, and why a task breaks them: refused by QDREAMER
before anything allocates.

A plugin states a resource's limits as plain `Resource.metadata` values (so they cross hooks, Ray
and the journal unchanged), built with `local_limits` for a simulator in this process or
`remote_limits` for a cloud device:

- `max_shots`: most shots one task may ask (a cloud device's published limit; for a local
  simulator LOCAL_MAX_SHOTS, as counts and samples grow with shots).
- `memory_model`: how a run's memory grows with the circuit's width: `statevector`
  (bytes_per_amplitude x 2^n), `density_matrix` (bytes_per_amplitude x 4^n), `stabilizer` (a
  tableau of about n^2 bytes) or `unbounded` (matrix product states: the bond dimension, hence
  the memory, depends on the entanglement the circuit builds, not known before it runs; only the
  width limit applies).
- `bytes_per_amplitude`: 16 (complex128, the default) or 8 (single precision).
- `bytes_per_sample`: bytes the simulator holds per shot and qubit when it samples (PennyLane and
  Braket keep an integer array of shots x wires; 0 where counts are tallied as they are drawn).
- `max_memory_bytes`: the memory a run may use: the pilot's `memory` setting (bytes) when given,
  else this host's physical memory or its cgroup limit, whichever is smaller, read when the pilot
  is created (for a simulator whose state lives on a GPU: that GPU's memory, from `nvidia-smi`).
  `memory_source` says which.

`bytes_needed` is a lower bound (the state alone, plus samples): a run it refuses cannot fit, and a
run it accepts may still need working copies on top. QDREAMER refuses a task whose width, shots or
memory a resource cannot hold, with a reason per candidate naming the field, the value, the limit
and the fix (`breaches`); a task's own `resource_config['memory']` counts as a limit too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

import attrs

from qtau import validation
from qtau.errors import ConfigurationError
from qtau.scalars import plain

MAX_SHOTS = "max_shots"
MEMORY_MODEL = "memory_model"
MAX_MEMORY_BYTES = "max_memory_bytes"
MEMORY_SOURCE = "memory_source"
BYTES_PER_AMPLITUDE = "bytes_per_amplitude"
BYTES_PER_SAMPLE = "bytes_per_sample"

#: The keys `local_limits` writes: what a resource built from a local one drops when it is remote.
LOCAL_LIMIT_KEYS = (MAX_SHOTS, MEMORY_MODEL, MAX_MEMORY_BYTES, MEMORY_SOURCE, BYTES_PER_AMPLITUDE, BYTES_PER_SAMPLE)

STATEVECTOR = "statevector"
DENSITY_MATRIX = "density_matrix"
STABILIZER = "stabilizer"
UNBOUNDED = "unbounded"
MODELS = (STATEVECTOR, DENSITY_MATRIX, STABILIZER, UNBOUNDED)

#: Most shots one task may ask of a local simulator (qtau.validation keeps the number).
LOCAL_MAX_SHOTS = validation.LOCAL_MAX_SHOTS
#: cgroup v1 writes "no limit" as a number near 2^63.
_NO_LIMIT = 2**60


def bytes_needed(model: str | None, num_qubits: int, *, bytes_per_amplitude: int = 16, shots: int = 0,
                 bytes_per_sample: int = 0) -> int | None:
    """Least bytes a run of `num_qubits` qubits and `shots` shots holds under `model`; None when
    the model says nothing in advance (`unbounded`, or no model)."""
    if model == STATEVECTOR:
        state = bytes_per_amplitude << num_qubits
    elif model == DENSITY_MATRIX:
        state = bytes_per_amplitude << (2 * num_qubits)
    elif model == STABILIZER:
        state = num_qubits * num_qubits
    else:
        return None
    return state + shots * num_qubits * bytes_per_sample


def physical_memory() -> int | None:
    """Bytes of physical memory of this host (POSIX), or None where the system does not say."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _read_limit(path: str) -> int | None:
    try:
        with open(path) as handle:
            text = handle.read().strip()
    except OSError:
        return None
    if not text.isdigit() or int(text) >= _NO_LIMIT:
        return None  # "max" (cgroup v2) or the v1 sentinel: no limit
    return int(text)


def cgroup_memory_limit(root: str = "/sys/fs/cgroup") -> int | None:
    """The tightest memory limit of this process's cgroup and its ancestors (v2 `memory.max`,
    v1 `memory.limit_in_bytes`), or None where none is set (containers and batch schedulers
    set one below the host's memory; an allocation past it is killed, not refused)."""
    try:
        with open("/proc/self/cgroup") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return None
    limits = []
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":
            base, name = root, "memory.max"
        elif "memory" in controllers.split(","):
            base, name = os.path.join(root, "memory"), "memory.limit_in_bytes"
        else:
            continue
        parts = [p for p in path.split("/") if p]
        for depth in range(len(parts), -1, -1):  # the cgroup itself, then each parent
            limit = _read_limit(os.path.join(base, *parts[:depth], name))
            if limit is not None:
                limits.append(limit)
    return min(limits, default=None)


@lru_cache(maxsize=1)
def host_memory() -> tuple[int | None, str]:
    """(bytes a process on this host may use, where the number comes from)."""
    physical, cgroup = physical_memory(), cgroup_memory_limit()
    if cgroup is not None and (physical is None or cgroup < physical):
        return cgroup, "this host's cgroup memory limit"
    return physical, "this host's physical memory"


def gpu_memory() -> int | None:
    """Total bytes of the first visible NVIDIA GPU (CUDA_VISIBLE_DEVICES' first index, else 0),
    as `nvidia-smi` reports them; None where it is missing or says nothing usable."""
    tool = shutil.which("nvidia-smi")
    if tool is None:
        return None
    first = (os.environ.get("CUDA_VISIBLE_DEVICES") or "0").split(",")[0].strip()
    try:
        out = subprocess.run([tool, "--query-gpu=memory.total", "--format=csv,noheader,nounits", f"--id={first}"],
                             capture_output=True, text=True, timeout=10, check=True).stdout
        return int(out.split()[0]) * 1024**2  # MiB
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


def pilot_memory(config: Mapping[str, Any]) -> int | None:
    """The pilot's `memory` setting (bytes a task may use where it runs, e.g. a Ray node's
    memory when the driver's host is smaller), or None when not given."""
    value = plain(config.get("memory"))
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigurationError(
            f"the pilot's memory must be a positive number of bytes, not {value!r}", field="memory",
            value=value, fix="pass memory=64 * 1024**3 (bytes), or leave it out to use this host's memory",
        )
    return value


def local_limits(config: Mapping[str, Any], model: str, *, max_shots: int = LOCAL_MAX_SHOTS,
                 bytes_per_amplitude: int = 16, bytes_per_sample: int = 0, gpu: bool = False) -> dict[str, Any]:
    """Metadata entries of a simulator that runs where the pilot runs: its shot limit, how its
    memory grows, and the memory it has (the pilot's `memory`, else this host's, or with `gpu`
    the GPU's: none stated where it cannot be read)."""
    if model not in MODELS:
        raise ValueError(f"unknown memory model {model!r}; one of {', '.join(MODELS)}")
    limit = pilot_memory(config)
    source = "the pilot's memory setting"
    if limit is None and gpu:
        limit, source = gpu_memory(), "the GPU's memory (nvidia-smi)"
    elif limit is None:
        limit, source = host_memory()
    meta: dict[str, Any] = {MAX_SHOTS: max_shots, MEMORY_MODEL: model, BYTES_PER_AMPLITUDE: bytes_per_amplitude,
                            BYTES_PER_SAMPLE: bytes_per_sample}
    if limit is not None:
        meta.update({MAX_MEMORY_BYTES: limit, MEMORY_SOURCE: source})
    return meta


def remote_limits(max_shots: int | None) -> dict[str, Any]:
    """Metadata entries of a cloud device: its published shot limit (memory is the provider's)."""
    return {} if max_shots is None else {MAX_SHOTS: int(max_shots)}


@attrs.frozen
class Breach:
    """One limit a task breaks on one resource: the field, the value asked, the limit, and the fix."""

    field: str
    value: int
    limit: int
    reason: str
    fix: str


def size(n: int) -> str:
    """Bytes for people, with the exact count while it is readable: `16.0 GiB (17179869184 bytes)`."""
    if n >= 1 << 60:
        return f"about 2^{n.bit_length() - 1} bytes"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            break
        value /= 1024
    return f"{n} bytes" if unit == "B" else f"{value:.1f} {unit} ({n} bytes)"


def _memory_fix(model: str) -> str:
    if model == DENSITY_MATRIX:
        return "use fewer qubits, a statevector simulator (no noise), or a cloud simulator"
    return ("use fewer qubits, a matrix_product_state or stabilizer (Clifford) method, a host with more "
            "memory (the pilot's memory setting), or a cloud simulator")


def breaches(metadata: Mapping[str, Any], num_qubits: int, shots: int,
             memory_request: int | None = None) -> list[Breach]:
    """Every shot and memory limit a task of `num_qubits` qubits and `shots` shots breaks on a
    resource with this metadata (empty: it fits)."""
    found = []
    too_many = validation.shots_limit(shots, metadata.get(MAX_SHOTS))
    if too_many:
        limit = int(metadata[MAX_SHOTS])
        found.append(Breach("shots", shots, limit, too_many,
                            f"pass shots={limit} or fewer (several such tasks, counts added, for more)"))
    model = metadata.get(MEMORY_MODEL)
    need = bytes_needed(model, num_qubits, bytes_per_amplitude=int(metadata.get(BYTES_PER_AMPLITUDE, 16)),
                        shots=shots, bytes_per_sample=int(metadata.get(BYTES_PER_SAMPLE, 0)))
    if need is None:
        return found
    what = f"num_qubits={num_qubits} needs at least {size(need)} as a {model.replace('_', ' ')}"
    have = metadata.get(MAX_MEMORY_BYTES)
    if validation.is_number(have) and need > have:
        over = f"{what}, over the {size(int(have))} of {metadata.get(MEMORY_SOURCE, 'this resource')}"
        samples = need - bytes_needed(model, num_qubits, bytes_per_amplitude=int(metadata.get(BYTES_PER_AMPLITUDE, 16)))
        if need - samples <= have:  # the state fits; the samples of this many shots do not
            found.append(Breach("shots", shots, int(have), f"{over} ({size(samples)} of them samples)",
                                "pass fewer shots (several tasks, counts added, for more)"))
        else:
            found.append(Breach("num_qubits", num_qubits, int(have), over, _memory_fix(model)))
    if memory_request is not None and need > memory_request:
        found.append(Breach("resource_config.memory", memory_request, need,
                            f"{what}, over the task's resource_config memory={memory_request} bytes",
                            f"raise resource_config['memory'] to at least {need}, or use fewer qubits"))
    return found


def reasons(metadata: Mapping[str, Any], num_qubits: int, shots: int, memory_request: int | None = None) -> list[str]:
    """The breaches as QDREAMER's rejection reasons (the refusal's fix is `common_breach`'s)."""
    return [b.reason for b in breaches(metadata, num_qubits, shots, memory_request)]


def common_breach(metadatas: Iterable[Mapping[str, Any]], num_qubits: int, shots: int,
                  memory_request: int | None = None) -> Breach | None:
    """The limit a refusal names when every candidate breaks one: a field all of them break if
    there is one, else the first candidate's; None when some candidate breaks none."""
    each = [breaches(meta, num_qubits, shots, memory_request) for meta in metadatas]
    if not each or not all(each):
        return None
    for breach in each[0]:
        if all(any(b.field == breach.field for b in found) for found in each):
            return breach
    return each[0][0]
