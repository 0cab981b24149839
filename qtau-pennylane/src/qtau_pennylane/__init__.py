"""QTAU backend plugin for PennyLane: QNodes and tapes on default.qubit/mixed, lightning.*,
qiskit.*, braket.* and rigetti.* devices, chosen by QDREAMER.

Importing this package does not import PennyLane. `bind(qnode, *args)` attaches the arguments a
QNode's circuit is built with (see `binding.py`).
"""

from qtau_pennylane.binding import BoundQNode, bind

__all__ = ["BoundQNode", "bind"]
