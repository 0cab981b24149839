"""docs/hooks.md must document every hookspec, Backend and executor method with its exact signature
(datasette does the same)."""

import inspect
import re
from pathlib import Path

import pytest
from qtau import hookspecs
from qtau.backend import Backend
from qtau.executor import LocalExecutor, RemoteExecutor

DOCS = Path(__file__).resolve().parents[1] / "docs" / "hooks.md"
SPECS = {name: fn for name, fn in vars(hookspecs).items() if name.startswith("qtau_") and callable(fn)}
METHODS = {f"{cls.__name__}.{name}": getattr(cls, name) for cls, names in (
    (Backend, ("executors", "resources", "executor", "run", "status", "noise", "cost", "price_tables",
               "offline_resources")),
    (LocalExecutor, ("run",)),
    (RemoteExecutor, ("submit", "poll", "fetch", "cancel")),
) for name in names}


def documented_signatures() -> dict[str, str]:
    text = DOCS.read_text()
    found = {}
    for name, block in re.findall(r"^### (qtau_\w+)\n```python\n(.*?)\n```", text, flags=re.M | re.S):
        found[name] = block.strip()
    return found


def spec_signature(name: str) -> str:
    sig = inspect.signature(SPECS[name], eval_str=False)
    params = ", ".join(f"{p.name}: {p.annotation}" for p in sig.parameters.values())
    return f"def {name}({params}) -> {sig.return_annotation}"


def test_every_hook_spec_is_documented():
    assert set(SPECS) - set(documented_signatures()) == set()


def test_no_documented_hook_is_missing_from_the_specs():
    assert set(documented_signatures()) - set(SPECS) == set()


@pytest.mark.parametrize("name", sorted(SPECS))
def test_documented_signature_matches_spec(name):
    assert documented_signatures().get(name) == spec_signature(name)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_firstresult_is_stated(name):
    first = SPECS[name].qtau_spec["firstresult"]
    section = DOCS.read_text().split(f"### {name}\n", 1)[1].split("\n### ", 1)[0]
    assert ("First answer wins" in section) == first
    assert ("Collected" in section) == (not first)


def documented_methods() -> dict[str, str]:
    text = DOCS.read_text()
    return {name: block.strip() for name, block in
            re.findall(r"^### (\w+\.\w+)\n```python\n(.*?)\n```", text, flags=re.M | re.S)}


def method_signature(qualified: str) -> str:
    sig = inspect.signature(METHODS[qualified], eval_str=False)
    params = ", ".join(p.name if p.annotation is inspect.Parameter.empty else f"{p.name}: {p.annotation}"
                       for p in sig.parameters.values())
    return f"def {qualified.split('.')[1]}({params}) -> {sig.return_annotation}"


def test_every_backend_method_is_documented_and_nothing_else():
    assert set(documented_methods()) == set(METHODS)


@pytest.mark.parametrize("name", sorted(METHODS))
def test_documented_method_signature_matches_code(name):
    assert documented_methods().get(name) == method_signature(name)
