"""Task ids: 16 hex digits, distinct across many tasks, never repeated by a user's `random.seed`
(ids key the journal, so a seeded program rerun must not reuse them), nor in a forked child."""

import os
import random

import pytest
from qtau import QuantumTask


def test_ids_are_sixteen_hex_digits_and_distinct():
    ids = [QuantumTask(circuit="OPENQASM 2.0;").task_id for _ in range(20000)]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 16 and int(i, 16) >= 0 for i in ids)


def test_user_seeding_does_not_repeat_ids():
    random.seed(7)
    first = QuantumTask(circuit="OPENQASM 2.0;").task_id
    random.seed(7)
    assert QuantumTask(circuit="OPENQASM 2.0;").task_id != first


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_draws_other_ids():
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next id, then exit without running pytest's teardown
        os.write(write, QuantumTask(circuit="OPENQASM 2.0;").task_id.encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 64).decode()
    os.waitpid(pid, 0)
    os.close(read)
    assert len(child) == 16 and child != QuantumTask(circuit="OPENQASM 2.0;").task_id
