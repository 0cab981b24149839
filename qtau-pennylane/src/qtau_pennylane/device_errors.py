"""The errors of `qtau.qubit`: each a QtauError and the PennyLane error documented for the case.

In a module of their own so that the device (`device.py`) and the tape rewrites it runs
(`measurement_rewrites.py`) raise the same classes; `qtau_pennylane.device` re-exports them.
"""

from __future__ import annotations

from pennylane.exceptions import DeviceError
from qtau.errors import ConfigurationError, InvalidTaskError


class QtauDeviceError(InvalidTaskError, DeviceError):
    """A tape `qtau.qubit` cannot run: a QtauError and PennyLane's documented DeviceError."""


class AnalyticModeError(QtauDeviceError):
    """`shots=None` on `qtau.qubit`: it only samples, so exact results do not exist."""


class UnsupportedOperationError(QtauDeviceError):
    """An operation neither a resource nor PennyLane's decompositions can turn into supported gates."""


class UnsupportedMeasurementError(QtauDeviceError):
    """A measurement `qtau.qubit` does not compute from its samples: classical shadows, or the
    variance of a sum too wide for its eigenbasis to be computed as a matrix."""


class WiresUnavailableError(ConfigurationError, DeviceError):
    """More wires than any resource of the device's pilots has qubits."""
