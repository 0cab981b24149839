"""Pilot-Quantum utility modules, on QTAU."""
