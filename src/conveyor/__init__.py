"""Conveyor: a job execution and scheduling service.

`App` declares workflows; `Client` talks to a running server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from conveyor.worker.registry import App

__version__ = "0.1.0"
__all__ = ["App", "AsyncClient", "Client", "__version__"]

if TYPE_CHECKING:
    from conveyor.client import AsyncClient, Client


def __getattr__(name: str) -> Any:
    # The client pulls in httpx; workers that only declare workflows need not import it.
    if name in ("Client", "AsyncClient"):
        from conveyor import client

        return getattr(client, name)
    raise AttributeError(name)
