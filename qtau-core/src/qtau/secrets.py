"""Secret values (IBM tokens, AWS keys) that never show up in reprs, logs or error messages.

A `Secret` wraps the value; its repr is a fixed mask. Every secret created in this process is also
remembered (by value, in memory only) so `redact()` can scrub it from any text QTAU emits, such as
an SDK's exception message that echoes the token back.
"""

from __future__ import annotations

import logging
import threading

MASK = "***"
_known: set[str] = set()
_lock = threading.Lock()


def _remember(value: str) -> None:
    # Short values would redact ordinary words; real tokens are long.
    if len(value) >= 6:
        with _lock:
            _known.add(value)


class Secret:
    """A credential. `reveal()` gives the value to the code that must send it; nothing else does."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        object.__setattr__(self, "_value", str(value))
        _remember(self._value)

    def reveal(self) -> str:
        return self._value

    def __setattr__(self, name, value):
        raise AttributeError("Secret is immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("qtau.Secret", self._value))

    def __repr__(self) -> str:
        return f"Secret('{MASK}')"

    __str__ = __repr__

    def __reduce__(self):
        # Rebuilding through __init__ re-registers the value for redaction on Ray workers too.
        return (Secret, (self._value,))


def redact(text: str) -> str:
    """Replace every known secret value in `text` with the mask."""
    if not _known:
        return text
    with _lock:
        values = sorted(_known, key=len, reverse=True)
    for value in values:
        if value in text:
            text = text.replace(value, MASK)
    return text


def secret_or_none(value: object) -> Secret | None:
    """Wrap a configuration value as a Secret; empty values become None."""
    if value is None or value == "":
        return None
    if isinstance(value, Secret):
        return value
    return Secret(str(value))


class RedactingFilter(logging.Filter):
    """Logging filter that scrubs known secrets from every record passing through the `qtau` logger."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _known:
            record.msg = redact(record.getMessage())
            record.args = None
        return True
