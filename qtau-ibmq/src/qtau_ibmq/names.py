"""Executor names of the `ibmq` plugin, parsed without any SDK.

- `ibmq_fake_<name>`: a fake backend shipped with qiskit-ibm-runtime, run offline (local mode).
- `ibmq_qasm_simulator`: the seed's cloud simulator; IBM retired it, so it runs locally on Aer.
- `ibmq_least_busy`: every backend of the account, each a resource (QDREAMER ranks them).
- `ibmq_<backend>`: one device of the account; `ibmq_brisbane` and `ibmq_ibm_brisbane` both
  mean `ibm_brisbane`.
"""

from __future__ import annotations

import attrs
from qtau.errors import UnknownExecutorError

PREFIX = "ibmq_"
FAKE = "fake"
QASM_SIMULATOR = "qasm_simulator"
LEAST_BUSY = "least_busy"
DEVICE = "device"


@attrs.frozen
class Target:
    """What an executor name asks for: a `kind` and, for one backend, the names it may go by."""

    executor: str
    kind: str
    name: str = ""

    def candidates(self, local: bool = False) -> tuple[str, ...]:
        """Backend names to try, best first (`local`: the runtime's local mode names fakes `fake_*`)."""
        if self.kind == FAKE:
            return (self.name,)
        bare = self.name[len("ibm_"):] if self.name.startswith("ibm_") else self.name
        found = [self.name] if self.name.startswith("ibm_") else [f"ibm_{self.name}", self.name]
        if local:
            found.insert(0, f"fake_{bare}")
        return tuple(dict.fromkeys(found))


def parse(executor: str) -> Target:
    if not isinstance(executor, str) or not executor.startswith(PREFIX) or len(executor) == len(PREFIX):
        raise UnknownExecutorError(
            f"{executor!r} is not an ibmq executor", field="quantum.executor", value=executor,
            fix="use ibmq_<backend> (e.g. ibmq_brisbane), ibmq_least_busy, ibmq_fake_<name> or ibmq_qasm_simulator",
        )
    rest = executor[len(PREFIX):].strip().lower()
    if rest.startswith("fake_"):
        return Target(executor, FAKE, rest)
    if rest == QASM_SIMULATOR:
        return Target(executor, QASM_SIMULATOR, rest)
    if rest == LEAST_BUSY:
        return Target(executor, LEAST_BUSY)
    return Target(executor, DEVICE, rest)
