"""The warning this layer gives where it keeps a Pilot-Quantum behaviour QTAU itself avoids."""

from __future__ import annotations


class PilotQuantumCompatWarning(UserWarning):
    """Pilot-Quantum's contract kept on QTAU although it hides a problem (docs/pilot-quantum.md)."""
