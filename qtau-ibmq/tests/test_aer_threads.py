"""A fake backend runs on Aer, loaded with sleeping OpenMP threads.

Making qiskit-ibm-runtime's fake backends imports Aer (their default options ask whether it is
installed), so without care the first `ibmq_fake_*` pilot loaded Aer's bundled libgomp with its
default spinning threads, before `qtau_qiskit.aer` could ask for sleeping ones (see that module
for what spinning costs beside QTAU's threads). Read in a fresh interpreter, since libgomp reads
its settings once (`qtau.testing.openmp`)."""

from __future__ import annotations

from qtau.testing.openmp import spin_count_after_a_task


def test_a_fake_backend_loads_aer_with_sleeping_threads(tmp_path):
    spin, after = spin_count_after_a_task([("qiskit", "qtau_qiskit.plugin"), ("ibmq", "qtau_ibmq.plugin")],
                                          "ibmq_fake_manila", {"QTAU_CACHE_DIR": str(tmp_path)})
    assert spin == "0"  # OMP_WAIT_POLICY=PASSIVE as libgomp read it (its default is 300000)
    assert after is None  # the environment as it was
