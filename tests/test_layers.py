"""QTAU's import structure, enforced: the import-linter contracts in pyproject.toml, no import cycle in
any package, no import of a qtau module inside a function, no quantum SDK or Ray imported at module
level by qtau-core, and every qtau module placed in one layer (and classified for plugins).

import-linter and grimp read the source (they import nothing), and grimp counts every import
statement: inside functions and under `if TYPE_CHECKING:` too.

KNOWN EXCEPTIONS below (and in pyproject.toml's `ignore_imports`) belong to work in progress on other
branches this round; each names its owner. Every one must still match something: when a merge removes
what it excuses, the test fails asking for the line to be deleted.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import grimp
import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "qtau-core" / "src"
PACKAGES = ("qtau", "pilot", "qtau_qiskit", "qtau_pennylane", "qtau_braket", "qtau_ibmq")

#: Quantum SDKs (and Ray) that qtau-core never imports at module level.
SDKS = frozenset({"qiskit", "qiskit_aer", "qiskit_ibm_runtime", "qiskit_addon_cutting", "pennylane", "braket",
                  "cirq", "pyquil", "ray", "boto3"})

#: Import cycles (strongly connected components of the module graph) allowed for now, each named.
KNOWN_CYCLES: set[frozenset[str]] = set()

#: Imports of qtau modules inside a function: (file under qtau-core/src, function, imported module).
ALLOWED_FUNCTION_IMPORTS = {
    # The console script checks that typer and rich import before it loads the typer app, so that
    # `import qtau.cli` stays free of both and a broken install gets a one-line fix, not a traceback
    # (tests/test_cli_install.py, tests/test_cli.py). Permanent.
    ("qtau/cli/__init__.py", "main", "qtau.cli.app"),
}
KNOWN_FUNCTION_IMPORTS: set[tuple[str, str, str]] = set()

#: Modules plugins may import (the `qtau` package itself is public too); pyproject.toml's
#: `plugin-api` contract forbids every other qtau module.
PLUGIN_API = frozenset({
    "qtau.errors", "qtau.types", "qtau.backend", "qtau.executor", "qtau.testing", "qtau.gates", "qtau.noise",
    "qtau.validation", "qtau.secrets", "qtau.threads", "qtau.qasm3", "qtau.qasm_header", "qtau.interop",
    "qtau.resource_limits", "qtau.versions", "qtau.cutting", "qtau.mitigation", "qtau.mitigation_options",
    "qtau.optimisation_levels", "qtau.scalars",
})


def contracts() -> dict[str, dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return {c["id"]: c for c in config["contracts"]}


def layer_modules() -> list[str]:
    return [name.strip() for layer in contracts()["layers"]["layers"]
            for name in layer.replace("|", ":").split(":")]


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def qtau_modules() -> set[str]:
    return {m for m in grimp.build_graph("qtau", cache_dir=None).modules if m != "qtau"}


def test_the_import_linter_contracts_hold():
    code = ("import sys; from importlinter.cli import lint_imports; "
            "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True, no_logo=True))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-6000:] + out.stderr[-2000:]
    assert "3 kept, 0 broken" in out.stdout


def strongly_connected(graph: grimp.ImportGraph) -> list[frozenset[str]]:
    """Tarjan's algorithm, iteratively: the components of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[frozenset[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                members = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    members.add(member)
                    if member == node:
                        break
                if len(members) > 1:
                    found.append(frozenset(members))
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycles(package):
    cycles = set(strongly_connected(grimp.build_graph(package, cache_dir=None)))
    known = {c for c in KNOWN_CYCLES if all(within(m, package) for m in c)}
    assert not cycles - known, f"import cycles in {package}: {[sorted(c) for c in cycles - known]}"
    assert not known - cycles, f"delete these from KNOWN_CYCLES, they are gone: {[sorted(c) for c in known - cycles]}"


def test_the_cycle_finder_finds_a_cycle(tmp_path, monkeypatch):
    """The check above could pass by finding nothing: a two-module cycle must be found."""
    package = tmp_path / "qtau_t_cyclic"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("def f():\n    from qtau_t_cyclic import b\n")
    (package / "b.py").write_text("from qtau_t_cyclic import a\n")
    (package / "c.py").write_text("from qtau_t_cyclic import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    found = strongly_connected(grimp.build_graph("qtau_t_cyclic", cache_dir=None))
    assert found == [frozenset({"qtau_t_cyclic.a", "qtau_t_cyclic.b"})]


def imports_in_functions(path: Path) -> list[tuple[str, str]]:
    """(function, module) of each `import qtau...`/`from qtau... import` or pilot import inside a function."""
    found = []

    def visit(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            inside = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else function
            if function is not None and isinstance(child, ast.ImportFrom) and child.level == 0:
                names = [child.module or ""]
            elif function is not None and isinstance(child, ast.Import):
                names = [alias.name for alias in child.names]
            else:
                names = []
            found.extend((function, n) for n in names if n.split(".")[0] in ("qtau", "pilot"))
            visit(child, inside)

    visit(ast.parse(path.read_text()), None)
    return found


def test_no_qtau_module_is_imported_inside_a_function():
    found = {(path.relative_to(CORE).as_posix(), function, module)
             for package in ("qtau", "pilot") for path in (CORE / package).rglob("*.py")
             for function, module in imports_in_functions(path)}
    unexpected = found - ALLOWED_FUNCTION_IMPORTS - KNOWN_FUNCTION_IMPORTS
    assert not unexpected, ("import these at module level (an import inside a function hides a dependency "
                            f"from the layer contract): {sorted(unexpected)}")
    stale = KNOWN_FUNCTION_IMPORTS - found
    assert not stale, f"delete these from KNOWN_FUNCTION_IMPORTS, they are gone: {sorted(stale)}"


def module_level_imports(path: Path) -> list[tuple[int, str]]:
    """(line, top-level package) of imports run when the module is imported: outside functions and
    outside `if TYPE_CHECKING:` blocks."""
    found = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.ImportFrom) and child.level == 0:
                found.append((child.lineno, (child.module or "").split(".")[0]))
            elif isinstance(child, ast.Import):
                found.extend((child.lineno, alias.name.split(".")[0]) for alias in child.names)
            visit(child)

    visit(ast.parse(path.read_text()))
    return found


def test_core_imports_no_quantum_sdk_or_ray_at_module_level():
    found = [f"{path.relative_to(CORE).as_posix()}:{line} imports {top}"
             for package in ("qtau", "pilot") for path in sorted((CORE / package).rglob("*.py"))
             for line, top in module_level_imports(path) if top in SDKS]
    assert not found, "import these inside the functions that need them: " + "; ".join(found)


def test_the_module_level_check_sees_imports_in_classes_and_try_blocks_but_not_type_checking(tmp_path):
    path = tmp_path / "probe.py"
    path.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import ray\n"
                    "try:\n    import qiskit\nexcept ImportError:\n    pass\n"
                    "class A:\n    import braket\n"
                    "def f():\n    import pennylane\n")
    assert [top for _, top in module_level_imports(path)] == ["typing", "qiskit", "braket"]


def test_every_qtau_module_has_a_layer():
    layers = layer_modules()
    for module in sorted(qtau_modules()):
        owners = [layer for layer in layers if within(module, layer)]
        assert len(owners) == 1, (f"{module} is in {len(owners)} layers of pyproject.toml's layers contract: "
                                  "place it in exactly one (see the comment above the contract)")


def test_every_qtau_module_is_public_to_plugins_or_forbidden_to_them():
    forbidden = contracts()["plugin-api"]["forbidden_modules"]
    for module in sorted(qtau_modules()):
        public = any(within(module, p) for p in PLUGIN_API)
        internal = any(within(module, f) for f in forbidden)
        assert public != internal, (f"{module}: list it in PLUGIN_API here or in the plugin-api contract's "
                                    "forbidden_modules in pyproject.toml, once")
