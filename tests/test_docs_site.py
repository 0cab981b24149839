"""The documentation site builds strictly, and every Python block in docs/ runs.

Each docs page's Python blocks run in order in one fresh interpreter (a page reads like one
session), with every installed plugin, so an example that rots fails here. Blocks in hooks.md are
hook signatures: they are defined (with a `...` body) so a signature that stops parsing fails too.
A page marks an illustration that needs what no test may reach (a real Ray cluster elsewhere on
the network) with a `py` fence instead of `python`; such blocks are highlighted but not run.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.M | re.S)
SIGNATURE = re.compile(r"\Adef \w+\(.*\) -> [^\n]+\Z", re.S)


def python_blocks(page: Path) -> list[str]:
    return [block for block in BLOCK.findall(page.read_text())]


def runnable(block: str) -> str:
    stripped = block.strip()
    if SIGNATURE.match(stripped):
        return f"{stripped}: ...\n"
    return block


PAGES = sorted(p.name for p in DOCS.glob("*.md") if python_blocks(p))


def test_every_page_with_code_is_checked():
    assert {"guide.md", "dreamer.md", "plugins.md", "hooks.md", "notebooks.md", "index.md"} <= set(PAGES)


@pytest.mark.parametrize("page", PAGES)
def test_python_blocks_run(page, tmp_path):
    script = "from __future__ import annotations\n" + "\n".join(runnable(b) for b in python_blocks(DOCS / page))
    (tmp_path / "page.py").write_text(script)
    out = subprocess.run([sys.executable, str(tmp_path / "page.py")], capture_output=True, text=True,
                         timeout=600, cwd=tmp_path)
    assert out.returncode == 0, f"{page}:\n{out.stderr[-3000:]}"


@pytest.mark.slow
def test_mkdocs_build_strict(tmp_path):
    site = tmp_path / "site"
    out = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
                         capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-4000:]
    api = (site / "api" / "index.html").read_text()
    # The API reference is generated from the docstrings, not written by hand.
    assert "Creates pilots, ranks their resources with QDREAMER" in api
    assert "Block until every task is done" in api
    assert (site / "plugins" / "index.html").read_text().count("seconds_per_task") >= 2
