"""Pilot-Quantum's executor classes, each running circuits through a QTAU pilot of its own."""
