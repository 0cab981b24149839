"""docs/architecture.md names every module of qtau-core with its one job, in the layer the import
contract (pyproject.toml [tool.importlinter]) puts it: this keeps the page in step with the tree."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "qtau-core" / "src"
PAGE = ROOT / "docs" / "architecture.md"
ROW = re.compile(r"^\| `([\w/]+\.py)` \| (.+) \|$")
LAYER = re.compile(r"^### (\d+)\. (.+)$")


def modules_in_tree() -> set[str]:
    return {str(p.relative_to(SRC)) for p in SRC.rglob("*.py") if "__pycache__" not in p.parts}


def rows() -> list[tuple[int | None, str, str]]:
    found, layer = [], None
    for line in PAGE.read_text().splitlines():
        if line.startswith("### "):
            heading = LAYER.match(line)
            layer = int(heading.group(1)) if heading else None
        elif row := ROW.match(line):
            found.append((layer, row.group(1), row.group(2).strip()))
    return found


def module_name(path: str) -> str:
    name = path.removesuffix(".py").replace("/", ".")
    return name.removesuffix(".__init__")


def test_every_module_is_named_once_and_nothing_else():
    named = [path for _, path, _ in rows()]
    assert len(named) == len(set(named)), "a module is named twice in docs/architecture.md"
    tree = modules_in_tree()
    assert set(named) - tree == set(), f"docs/architecture.md names modules that do not exist: {sorted(set(named) - tree)}"
    assert tree - set(named) == set(), f"add these modules to docs/architecture.md: {sorted(tree - set(named))}"


def test_every_module_says_its_job():
    assert all(len(job) > 20 for _, _, job in rows())


def test_each_module_sits_under_the_layer_the_import_contract_gives_it():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    layers = next(c for c in config["contracts"] if c["id"] == "layers")["layers"]
    members = [[n.strip() for n in layer.replace("|", ":").split(":")] for layer in layers]

    def contract_layer(module: str) -> int | None:
        for number, names in enumerate(members, 1):
            if any(module == n or module.startswith(n + ".") for n in names):
                return number
        return None

    for layer, path, _ in rows():
        assert layer == contract_layer(module_name(path)), (
            f"{path} is under layer {layer} of docs/architecture.md but in layer "
            f"{contract_layer(module_name(path))} of the import contract")


def test_the_service_only_faces_the_user():
    """PilotComputeService is the facade (issue 24): submission, collection, start-up and recovery
    live in their own modules, so the class stays within 200 lines."""
    tree = ast.parse((SRC / "qtau" / "service.py").read_text())
    [facade] = [node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == "PilotComputeService"]
    assert facade.end_lineno - facade.lineno + 1 <= 200
