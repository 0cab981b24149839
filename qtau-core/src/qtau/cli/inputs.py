"""What `qtau run` and `qtau rank` read: circuit files, executors, and where a plot goes.

A FILE is OpenQASM 2 or 3 text, or `module.py:function` (or `package.module:function`) naming a
function that takes no arguments and returns a circuit of an installed SDK (or OpenQASM text).
Every mistake is a QtauError naming the argument, the value and the fix, raised before any pilot
starts, so bad input costs nothing and exits with status 2; a malformed OpenQASM file is named
with the line where it goes wrong (`qtau.cli.qasm_check`).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

import attrs

from qtau.circuits import Circuits, detect_format, qasm_format
from qtau.cli.qasm_check import check_qasm
from qtau.errors import CircuitFunctionExitError, ConfigurationError, InvalidTaskError, QtauError
from qtau.plugins import PluginHost

#: Executors used when none is named, in order; each one whose plugin is installed becomes a pilot.
LOCAL_EXECUTORS = ("qiskit_local", "braket_local", "pennylane_lightning", "ibmq_fake_manila")


@attrs.frozen
class CircuitInput:
    """One FILE argument and the circuit it gave."""

    source: str
    circuit: Any = attrs.field(eq=False, repr=False)
    circuit_format: str


def load_circuit(source: str, host: PluginHost) -> CircuitInput:
    """Read FILE: OpenQASM text, or call `module.py:function`."""
    path = Path(source)
    if path.is_file():
        return _read_qasm(source, path, host)
    module, sep, function = source.rpartition(":")
    if sep and module and function and not function.startswith(("\\", "/")):
        return _call_function(source, module, function, host)
    if path.exists():
        raise ConfigurationError(f"FILE {source!r} is not a file", field="FILE", value=source,
                                 fix="give an OpenQASM file or module.py:function")
    raise ConfigurationError(
        f"FILE {source!r} does not exist", field="FILE", value=source,
        fix="check the path; give an OpenQASM 2/3 file, or module.py:function for a Python function",
    )


def _read_qasm(source: str, path: Path, host: PluginHost) -> CircuitInput:
    if path.suffix == ".py":
        raise InvalidTaskError(
            f"FILE {source!r} is Python: name the function that returns the circuit", field="FILE",
            value=source, fix=f"write {source}:function_name",
        )
    try:  # utf-8-sig: a byte order mark (Windows editors write one) is not part of the program
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigurationError(f"cannot read FILE {source!r}: {err}", field="FILE", value=source,
                                 fix="give a readable OpenQASM text file") from None
    fmt = qasm_format(text)
    if fmt is None:
        raise InvalidTaskError(
            f"FILE {source!r} is neither OpenQASM (it does not start with `OPENQASM 2.0;` or "
            "`OPENQASM 3.0;`) nor module.py:function", field="FILE", value=source,
            fix="give an OpenQASM 2/3 file, or module.py:function naming a function that returns a circuit",
        )
    check_qasm(source, text, fmt, Circuits(host))
    return CircuitInput(source, text, fmt)


def _call_function(source: str, module: str, function: str, host: PluginHost) -> CircuitInput:
    namespace = _import(source, module)
    func = getattr(namespace, function, None)
    if not callable(func):
        raise InvalidTaskError(
            f"{module} has no function {function!r}", field="FILE", value=source,
            fix="name a function defined in that module: module.py:function",
        )
    try:
        circuit = func()
    except (QtauError, KeyboardInterrupt):
        raise
    except Exception as err:
        raise InvalidTaskError(
            f"calling {source} raised {type(err).__name__}: {err}", field="FILE", value=source,
            fix="make the function run without arguments and return a circuit (--debug shows the traceback)",
        ) from err
    except BaseException as err:  # sys.exit() in the user's function: a failed task, not qtau's exit
        raise CircuitFunctionExitError(
            f"calling {source} raised {type(err).__name__}: {err}", field="FILE", value=source,
            fix="return a circuit or raise an exception instead of calling sys.exit()",
        ) from err
    if circuit is None or isinstance(circuit, (int, float, bool, list, dict, tuple)):
        raise InvalidTaskError(
            f"{source} returned {type(circuit).__name__}, not a circuit", field="FILE", value=source,
            fix="return a Qiskit/Braket/PennyLane circuit or OpenQASM text from the function",
        )
    try:
        fmt = detect_format(host, circuit)
    except QtauError:
        raise InvalidTaskError(
            f"{source} returned a {type(circuit).__module__}.{type(circuit).__qualname__}, which no installed "
            "plugin recognises as a circuit", field="FILE", value=source,
            fix="return a Qiskit/Braket/PennyLane circuit or OpenQASM text, and install that SDK's QTAU plugin",
        ) from None
    return CircuitInput(source, circuit, fmt)


def _import(source: str, module: str) -> Any:
    if module.endswith(".py"):
        file = Path(module)
        if not file.is_file():
            raise ConfigurationError(f"FILE {source!r}: {module!r} does not exist", field="FILE", value=source,
                                     fix="check the path of the Python file before the colon")
        spec = importlib.util.spec_from_file_location(f"qtau_cli_input_{file.stem}", file)
        loaded = importlib.util.module_from_spec(spec)
        sys.path.insert(0, str(file.resolve().parent))
        try:
            spec.loader.exec_module(loaded)
        except Exception as err:
            raise InvalidTaskError(
                f"importing {module} raised {type(err).__name__}: {err}", field="FILE", value=source,
                fix="fix the error in that file (--debug shows the traceback)",
            ) from err
        except (KeyboardInterrupt, QtauError):
            raise
        except BaseException as err:  # sys.exit() at import time
            raise CircuitFunctionExitError(
                f"importing {module} raised {type(err).__name__}: {err}", field="FILE", value=source,
                fix="do not call sys.exit() at import time in a circuit module",
            ) from err
        finally:
            sys.path.remove(str(file.resolve().parent))
        return loaded
    try:
        return importlib.import_module(module)
    except Exception as err:
        raise InvalidTaskError(
            f"FILE {source!r} is neither an existing OpenQASM file nor an importable module:function "
            f"({type(err).__name__}: {err})", field="FILE", value=source,
            fix="give an OpenQASM 2/3 file, or module.py:function naming a function that returns a circuit",
        ) from None


def check_executors(host: PluginHost, executors: list[str] | None) -> list[str]:
    """The executors named (each checked now: unknown ones fail before any pilot starts), or every
    installed local simulator of `LOCAL_EXECUTORS` when none is named."""
    if executors:
        for name in executors:
            host.find_executor(name)
        return list(dict.fromkeys(executors))
    found = [name for name in LOCAL_EXECUTORS if served(host, name)]
    if not host.names:
        raise ConfigurationError(
            "no QTAU plugin is installed, so there is no simulator to run on", field="--executor", value=None,
            fix="pip install qtau-qiskit (Qiskit Aer; or qtau-braket, qtau-pennylane, qtau-ibmq)",
        )
    if not found:
        raise ConfigurationError(
            "no local simulator plugin is installed and no --executor was given", field="--executor",
            value=None, fix="pip install qtau-qiskit, or name an installed executor with --executor",
        )
    return found


def served(host: PluginHost, executor: str) -> bool:
    try:
        host.find_executor(executor)
    except QtauError:
        return False
    return True


def check_plot_path(path: Path | None) -> Path | None:
    """Fail now, not after the run, when matplotlib is missing or `path` cannot be written."""
    if path is None:
        return None
    if importlib.util.find_spec("matplotlib") is None:
        raise ConfigurationError("--plot needs matplotlib, which is not installed", field="--plot",
                                 value=str(path), fix="pip install 'qtau-core[plot]'")
    if path.is_dir():
        raise ConfigurationError(f"--plot {str(path)!r} is a directory", field="--plot", value=str(path),
                                 fix="give a file path such as counts.png")
    existed = path.exists()
    try:
        with open(path, "ab"):
            pass
    except OSError as err:
        raise ConfigurationError(
            f"--plot {str(path)!r} cannot be written ({err.strerror or err})", field="--plot", value=str(path),
            fix="give a path in an existing, writable directory, such as ./counts.png",
        ) from None
    if not existed:
        os.unlink(path)
    return path
