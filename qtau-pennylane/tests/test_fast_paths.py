"""The shortcuts that make sampled gradients cheap must give exactly what PennyLane's own path gives.

- counts made from samples with numpy (`outcomes.bit_counts`) against `qml.counts`' own processing;
- counts measured as samples only where that is safe (one shot count, no broadcasting, devices
  that return samples);
- `split_when_needed` / `diagonalize_when_needed` skip only tapes with nothing to split or rotate;
- devices on wires 0..n-1 are made with a wire count (no per-tape wire mapping), other labels kept.
"""

from __future__ import annotations

import numpy as np
import pennylane as qml
import pytest
from pennylane.tape import QuantumScript
from qtau_pennylane import outcomes
from qtau_pennylane.device import diagonalize_when_needed, split_when_needed

from conftest import run


@pytest.mark.parametrize("all_outcomes", [False, True])
@pytest.mark.parametrize("width", [1, 3])
def test_bit_counts_equal_pennylanes_counts(width, all_outcomes):
    rng = np.random.default_rng(7)
    samples = rng.integers(0, 2, size=(500, width))
    samples[:, 0] = 0  # some outcomes never occur, so all_outcomes matters
    wires = list(range(width))
    expected = qml.counts(wires=wires, all_outcomes=all_outcomes).process_samples(samples, wire_order=wires)
    got = outcomes.bit_counts(samples if width > 1 else samples[:, 0], all_outcomes)
    assert list(got) == list(expected), "same keys in the same order"
    assert {k: int(v) for k, v in got.items()} == {k: int(v) for k, v in expected.items()}


def test_counts_as_samples_swaps_only_plain_counts_of_one_shot_count():
    ops = [qml.Hadamard(0), qml.CNOT([0, 1])]
    plain = QuantumScript(ops, [qml.counts(wires=[0, 1]), qml.expval(qml.Z(0))], shots=100)
    observable = QuantumScript(ops, [qml.counts(qml.Z(0))], shots=100)
    vector = QuantumScript(ops, [qml.counts(wires=[0, 1])], shots=[50, 50])
    single = QuantumScript(ops, [qml.counts(wires=[0, 1])], shots=1)
    out, swapped = outcomes.counts_as_samples([plain, observable, vector, single])
    assert swapped == [{0: False}, {}, {}, {}]
    assert type(out[0].measurements[0]).__name__ == "SampleMP" and out[0].measurements[1] is plain.measurements[1]
    assert out[0].operations == plain.operations and out[1:] == [observable, vector, single]


def test_swapped_counts_read_as_counts_on_lightning():
    dev = qml.device("lightning.qubit", wires=2)
    tape = QuantumScript([qml.X(1)], [qml.counts(wires=[0, 1], all_outcomes=True), qml.expval(qml.Z(1))], shots=300)
    batch, swapped = outcomes.counts_as_samples([tape])
    [(counts, expval)] = outcomes.samples_as_counts(qml.execute(batch, dev, diff_method=None), swapped)
    assert {k: int(v) for k, v in counts.items()} == {"00": 0, "01": 300, "10": 0, "11": 0}
    assert expval == pytest.approx(-1.0)


def test_split_is_skipped_only_when_there_is_nothing_to_split():
    one_word = QuantumScript([qml.Hadamard(0)], [qml.expval(qml.Z(0) @ qml.Z(1))], shots=10)
    [kept], _ = split_when_needed(one_word)
    assert kept is one_word
    mixed = QuantumScript([qml.Hadamard(0)], [qml.expval(qml.X(0) + qml.Z(0))], shots=10)
    split, _ = split_when_needed(mixed)
    assert len(split) == 2, "a sum of non-commuting words is still split"
    with_identity = QuantumScript([qml.Hadamard(0)], [qml.expval(qml.Z(0) + qml.Identity())], shots=10)
    [handled], _ = split_when_needed(with_identity)
    assert handled is not with_identity, "an identity on no wires goes through PennyLane's transform"


def test_diagonalize_is_skipped_only_for_z_words():
    z = QuantumScript([qml.Hadamard(0)], [qml.expval(qml.Z(0) @ qml.Z(1))], shots=10)
    [kept], _ = diagonalize_when_needed(z)
    assert kept is z
    x = QuantumScript([qml.Hadamard(0)], [qml.expval(qml.X(0))], shots=10)
    [rotated], _ = diagonalize_when_needed(x)
    assert len(rotated.operations) == 2, "X is rotated into the computational basis"


def test_a_z_word_gradient_matches_lightning(services):
    """The skipped transforms change nothing a user sees: the same sampled expval through QTAU."""
    from qtau_pennylane import bind

    def qnode_on(dev):
        @qml.set_shots(20000)
        @qml.qnode(dev)
        def circuit(x):
            qml.RY(x, wires=0)
            qml.CNOT(wires=[0, 1])
            return qml.expval(qml.Z(0) @ qml.Z(1)), qml.expval(qml.X(0) + 0.5 * qml.Z(1))

        return circuit

    ours = qnode_on(qml.device("qtau.qubit", wires=2, executors=["pennylane_lightning"]))(0.7)
    exact = (1.0, 0.5 * np.cos(0.7))  # <X0> of cos|00> + sin|11> is 0
    assert np.allclose(ours, exact, atol=0.05)
    result = run(services("pennylane_lightning"), bind(qnode_on(qml.device("default.qubit", wires=2)), 0.7), shots=20000)
    assert np.allclose(result.values, exact, atol=0.05)


def test_devices_on_standard_wires_are_made_with_a_count():
    from qtau.types import Resource
    from qtau_pennylane.devices import create_device

    res = Resource(id="pennylane:lightning.qubit", provider="pennylane", executor="pennylane_lightning",
                   kind="simulator", num_qubits=8,
                   metadata={"device": "lightning.qubit"})
    assert list(create_device(res, {}, (0, 1, 2)).wires) == [0, 1, 2]
    assert list(create_device(res, {}, ("a", "b")).wires) == ["a", "b"]
    assert list(create_device(res, {}, (2, 0)).wires) == [2, 0]


def test_samples_from_measurements_matches_pennylanes_transform():
    """The shortcut builds the same sample tape and post-processing as PennyLane's own transform,
    with and without a shot vector; a tape it cannot take goes through PennyLane's transform."""
    from pennylane.devices.preprocess import measurements_from_samples
    from qtau_pennylane.device import samples_from_measurements

    ops = [qml.RY(0.4, 0), qml.CNOT([0, 1]), qml.RX(0.3, 2)]
    for shots in (100, [60, 40]):
        tape = QuantumScript(ops, [qml.expval(qml.Z(0) @ qml.Z(1)), qml.probs(wires=[2]), qml.counts(wires=[0, 1])],
                             shots=shots)
        [ours], ours_post = samples_from_measurements(tape)
        [theirs], their_post = measurements_from_samples(tape)
        assert ours.measurements == theirs.measurements and ours.operations == theirs.operations
        rng = np.random.default_rng(3)
        samples = rng.integers(0, 2, size=(100, len(ours.measurements[0].wires)))
        raw = (tuple(np.split(samples, [60])) if isinstance(shots, list) else samples,)
        a, b = ours_post(raw), their_post(raw)
        for x, y in zip(np.array(a, dtype=object).ravel(), np.array(b, dtype=object).ravel(), strict=True):
            if isinstance(x, dict):
                assert {k: int(v) for k, v in x.items()} == {k: int(v) for k, v in y.items()}
            else:
                assert np.allclose(x, y)
    rotated = QuantumScript(ops, [qml.expval(qml.X(0))], shots=100)
    [tape_x], _ = samples_from_measurements(rotated)
    assert len(tape_x.operations) == len(ops) + 1, "a non-diagonal observable is left to PennyLane (rotated)"


def _per_wire_samples(tape, bits):
    """The sample array `tape`'s one sample measurement gets when wire w reads bits[w]."""
    [measurement] = tape.measurements
    return np.stack([bits[w] for w in measurement.wires], axis=1)


@pytest.mark.parametrize("shots", [400, [250, 150]])
def test_sampling_every_tape_wire_gives_pennylanes_values(shots):
    """The shortcut samples every wire of the tape in the tape's order (PennyLane's transform
    only the measured ones): for the same shots on every wire, both give the same values,
    including a measured wire no gate touches."""
    from pennylane.devices.preprocess import measurements_from_samples
    from qtau_pennylane.device import samples_from_measurements

    ops = [qml.RY(0.4, 2), qml.CNOT([2, 0])]
    # (PennyLane's transform fails on scaled words, `SProd.__init__() got multiple values for
    # argument 'base'`: coefficients are checked against process_samples below instead.)
    measurements = [qml.expval(qml.Z(3) @ qml.Z(0)), qml.var(qml.Z(2) @ qml.Z(3)),
                    qml.probs(wires=[0, 3]), qml.expval(qml.Z(2) + qml.Identity(0) @ qml.Z(0))]
    tape = QuantumScript(ops, measurements, shots=shots)
    [ours], ours_post = samples_from_measurements(tape)
    [theirs], their_post = measurements_from_samples(tape)
    assert list(ours.measurements[0].wires) == list(tape.wires) == [2, 0, 3]
    rng = np.random.default_rng(11)
    bits = {w: rng.integers(0, 2, size=400) for w in (0, 2, 3)}

    def raw(t):
        samples = _per_wire_samples(t, bits)
        return (tuple(np.split(samples, [250])) if isinstance(shots, list) else samples,)

    a, b = ours_post(raw(ours)), their_post(raw(theirs))
    for x, y in zip(np.array(a, dtype=object).ravel(), np.array(b, dtype=object).ravel(), strict=True):
        assert np.allclose(x, y, rtol=0, atol=1e-12)


def test_z_word_reader_matches_process_samples():
    """expval/var of Z words read from samples equal PennyLane's processing to rounding; other
    measurements and array shapes are PennyLane's own processing."""
    from qtau_pennylane import zwords

    wires = [0, 1, 2]
    samples = np.random.default_rng(5).integers(0, 2, size=(300, 3))
    for obs in (qml.Z(1), qml.Z(0) @ qml.Z(2), 1.5 * qml.Z(0) @ qml.Z(1) - 0.25 * qml.Z(2), qml.Identity(1) @ qml.Z(2)):
        for mp in (qml.expval(obs), qml.var(obs)):
            read = zwords.reader(mp, wires)
            assert read.__name__ == "from_z_words"
            got, expected = read(samples), mp.process_samples(samples, wires)
            assert isinstance(got, np.float64) and got == pytest.approx(float(expected), abs=1e-12)
    for mp in (qml.expval(qml.X(0)), qml.probs(wires=[0]), qml.expval(qml.Z(0) + qml.Identity())):
        assert zwords.reader(mp, wires).__name__ == "pennylane"
    assert zwords.reader(qml.expval(qml.Z(5)), wires).__name__ == "pennylane", "a wire that was not sampled"
    broadcast = np.stack([samples, samples[::-1]])
    mp = qml.expval(qml.Z(0))
    assert np.allclose(zwords.reader(mp, wires)(broadcast), mp.process_samples(broadcast, wires))


def test_handed_over_wires_equal_recomputed_ones():
    """Every tape the fast path hands wires to has exactly the wires PennyLane would compute,
    including a measured wire no gate touches (wire 3 here) and wires out of numeric order."""
    from qtau_pennylane import formats, known_wires
    from qtau_pennylane.device import samples_from_measurements

    ops = [qml.RY(0.4, 2), qml.CNOT([2, 0]), qml.Toffoli([4, 2, 0])]
    tape = QuantumScript(ops, [qml.expval(qml.Z(3) @ qml.Z(0)), qml.counts(wires=[1])], shots=100)
    [sampled], _ = samples_from_measurements(tape)
    job = QuantumScript(ops, [qml.counts(wires=[0, 1, 2, 3, 4])], shots=100)
    found = formats.summary(job, "pennylane_tape")
    [swapped], _ = outcomes.counts_as_samples([job])
    for made in (sampled, job, swapped):
        assert known_wires.computed(made) is not None, "handed over, not left to compute"
        fresh = QuantumScript(made.operations, made.measurements, shots=made.shots)
        assert list(made.wires) == list(fresh.wires)
    computed_first = QuantumScript(ops, [qml.counts(wires=[0, 1, 2, 3, 4])], shots=100)
    assert list(computed_first.wires) == [2, 0, 4, 1, 3]  # PennyLane's own, before the summary
    assert found == formats.summary(computed_first, "pennylane_tape")
    assert (found.num_qubits, found.depth, found.gate_counts) == (5, 3, {"ry": 1, "cx": 1, "ccx": 1})
