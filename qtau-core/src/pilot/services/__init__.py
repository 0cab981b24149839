"""Pilot-Quantum's execution service, on QTAU executors."""
