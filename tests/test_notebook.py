"""examples/notebooks/quickstart.ipynb runs top to bottom in a real Jupyter kernel (nbclient), and
QTAU's objects display there as HTML tables and figures."""

from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "notebooks" / "quickstart.ipynb"


@pytest.mark.slow
def test_quickstart_notebook_executes_and_renders(tmp_path, monkeypatch):
    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    monkeypatch.setenv("QTAU_PLUGINS", "qiskit")   # the kernel inherits the environment
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    # Unix sockets, not TCP: a TCP kernel's ports are picked free, released, then bound by the
    # kernel, and a neighbour (Ray nodes of other test workers) can take one in between. The
    # cell timeout is below pytest-timeout's, so a stuck cell is named rather than the test killed.
    kernel = KernelManager(kernel_name="python3", transport="ipc", ip=str(tmp_path / "kernel"))
    NotebookClient(notebook, km=kernel, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]

    def data(i: int) -> dict:
        return next(o for o in code[i].outputs if o.output_type == "execute_result")["data"]

    assert "QTAU pilot" in data(0)["text/html"] and "qiskit:aer_simulator" in data(0)["text/html"]
    assert "QDREAMER ranking" in data(1)["text/html"] and "qiskit:aer_simulator_noisy" in data(1)["text/html"]
    assert "image/png" in data(2)                                  # Explanation.plot() inline
    assert "QTAU Result" in data(3)["text/html"] and "bit 0 rightmost" in data(3)["text/html"]
    # The progress bar is a live widget (rich through ipywidgets); nbclient keeps widget state.
    assert any(o.get("data", {}).get("application/vnd.jupyter.widget-view+json") for o in code[3].outputs)
    assert "24/24" in str(notebook.metadata.get("widgets", {}))
    assert "image/png" in data(4)                                  # Result.plot() inline
    assert "QDREAMER cache" in data(5)["text/html"]
