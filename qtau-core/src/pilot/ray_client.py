"""What `PilotComputeService.get_client()` returns on RAY.

Pilot-Quantum's `get_client()` returned the `RayContext` of `ray.init(...)`, and its examples use it
as `with pcs.get_client(): ray.get([...])`. Ray itself (the module) is no context manager, so
`RayClient` is Ray with `with` added: every attribute is Ray's (`client.get`, `client.remote`...),
and leaving the block keeps Ray running, because the service started it and stops it at `cancel()`
(a `RayContext` would disconnect this process from the service's Ray).
"""

from __future__ import annotations

from typing import Any


class RayClient:
    """Ray (the module), usable in a `with` block that leaves Ray to the service."""

    def __init__(self, ray: Any) -> None:
        self._ray = ray

    def __getattr__(self, name: str) -> Any:
        if name == "_ray":
            raise AttributeError(name)
        return getattr(self._ray, name)

    def __enter__(self) -> RayClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        """Ray stays up: the service that started it stops it at `cancel()`."""

    def __repr__(self) -> str:
        return f"RayClient({self._ray.__name__})"
