"""QTAU plugin for IBM Quantum Runtime and its offline fake backends. Entry point: `qtau_ibmq.plugin`."""
