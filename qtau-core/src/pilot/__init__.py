"""Pilot-Quantum's API on QTAU: `pilot.dreamer`, `pilot.pilot_compute_service`, `pilot.util`,
`pilot.executors`, `pilot.services` and `pilot.pilot_enums_exceptions`, converted at the edge onto
QTAU's own machinery (docs/pilot-quantum.md lists every name and what differs)."""
