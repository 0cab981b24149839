"""Pilot-Quantum compatible import paths, re-exported from QTAU."""
