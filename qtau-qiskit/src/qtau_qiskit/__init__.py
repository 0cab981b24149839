"""QTAU plugin for Qiskit's local simulators. The entry point is `qtau_qiskit.plugin`."""
