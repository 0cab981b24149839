"""Plots (qtau.plotting) render real PNG files; notebook HTML (qtau.render_html) shows the data."""

import math

import pytest
from qtau import ExecutionEngine, PilotComputeService, QuantumTask
from qtau.dreamer.explanation_plot import score_terms

PNG = b"\x89PNG\r\n\x1a\n"
X0 = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[3];\ncreg c[3];\nh q[0];\nx q[1];\nmeasure q -> c;\n'


@pytest.fixture(scope="module")
def run(qiskit_host):
    with PilotComputeService(ExecutionEngine.LOCAL, plugins=qiskit_host) as pcs:
        pilot = pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "qiskit_local"}})
        pcs.initialize_dreamer({"optimization_mode": "balanced"})
        task = QuantumTask(circuit=X0, shots=400)
        explanation = pcs.qdreamer.explain(task)
        result = pcs.get_result(pcs.submit_quantum_task(task))
        yield pcs, pilot, explanation, result


def read_png(path):
    from matplotlib.image import imread

    assert path.read_bytes()[:8] == PNG
    return imread(path)


def test_result_plot_writes_a_png_with_the_bit_order_labelled(run, tmp_path):
    _, _, _, result = run
    fig = result.plot(tmp_path / "counts.png")
    image = read_png(tmp_path / "counts.png")
    assert image.shape[0] > 200 and image.shape[1] > 400
    [ax] = fig.axes
    assert "bit 0 rightmost" in ax.get_xlabel()
    assert [t.get_text() for t in ax.get_xticklabels()] == sorted(result.counts) == ["010", "011"]
    assert sorted(p.get_height() for p in ax.patches) == sorted(result.counts.values())


def test_explanation_plot_stacks_the_score_terms(run, tmp_path):
    _, _, explanation, _ = run
    fig = explanation.plot(tmp_path / "rank.png")
    read_png(tmp_path / "rank.png")
    terms = score_terms(explanation.rows, explanation.policy)
    for row in explanation.rows:
        if row.feasible:
            # The plotted terms (halvings behind the best) give QDREAMER's own score.
            assert math.isclose(2.0 ** -sum(terms[row.resource_id].values()) * row.penalty, row.score, rel_tol=1e-9)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == [r.resource_id for r in explanation.rows if r.feasible]


def test_plot_to_a_bad_path_is_a_configuration_error(run, tmp_path):
    from qtau import ConfigurationError

    with pytest.raises(ConfigurationError, match="cannot write the plot"):
        run[3].plot(tmp_path / "no-such-dir" / "x.png")


def test_result_html(run):
    html = run[3]._repr_html_()
    assert "<table" in html and "qiskit:aer_simulator" in html and "bit 0 rightmost" in html
    for key, n in run[3].counts.items():
        assert f">{key}<" in html and f">{n}<" in html


def test_explanation_html_lists_every_candidate(run):
    _, _, explanation, _ = run
    html = explanation._repr_html_()
    for row in explanation.rows:
        assert row.resource_id in html and f"{row.score:.4f}" in html


def test_pilot_and_cache_info_html(run):
    pcs, pilot, _, _ = run
    html = pilot._repr_html_()
    assert pilot.name in html and "qiskit:basic_simulator" in html
    info = pcs.qdreamer.get_cache_info()
    assert isinstance(info, dict) and info["misses"] >= 1
    html = info._repr_html_()
    assert "QDREAMER cache" in html and "qiskit:aer_simulator" in html and "hit_rate" in html


def test_html_escapes_values():
    from qtau.render_html import table

    assert "<b>" not in table(("x",), [("<b>bold</b>",)]) and "&lt;b&gt;" in table(("x",), [("<b>",)])
