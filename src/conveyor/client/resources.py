"""`client.workflows` and `client.tokens`, sync and async: small enough to sit side by side."""

from __future__ import annotations

from conveyor.client import calls
from conveyor.client.http import AsyncHTTP, SyncHTTP
from conveyor.client.models import TokenInfo, Workflow


class Workflows:
    """`client.workflows`: what the server can run, with each workflow's parameter schema."""

    def __init__(self, http: SyncHTTP) -> None:
        self._http = http

    def list(self) -> list[Workflow]:
        return [Workflow.from_json(w) for w in self._http.send(calls.workflows()).get("items") or []]

    def get(self, name: str) -> Workflow:
        return Workflow.from_json(self._http.send(calls.workflow(name)))


class Tokens:
    """`client.tokens`: API tokens; the server allows these calls to the admin role only."""

    def __init__(self, http: SyncHTTP) -> None:
        self._http = http

    def create(self, name: str, role: str) -> TokenInfo:
        """Create a token; the answer's `.token` is the secret, which the server never shows again."""
        return TokenInfo.from_json(self._http.send(calls.token_create(name, role)))

    def list(self) -> list[TokenInfo]:
        return [TokenInfo.from_json(t) for t in self._http.send(calls.token_list()).get("items") or []]

    def delete(self, token_id: str) -> None:
        self._http.send(calls.token_delete(token_id))


class AsyncWorkflows:
    """`async_client.workflows`: the async twin of `Workflows`."""

    def __init__(self, http: AsyncHTTP) -> None:
        self._http = http

    async def list(self) -> list[Workflow]:
        data = await self._http.send(calls.workflows())
        return [Workflow.from_json(w) for w in data.get("items") or []]

    async def get(self, name: str) -> Workflow:
        return Workflow.from_json(await self._http.send(calls.workflow(name)))


class AsyncTokens:
    """`async_client.tokens`: the async twin of `Tokens`."""

    def __init__(self, http: AsyncHTTP) -> None:
        self._http = http

    async def create(self, name: str, role: str) -> TokenInfo:
        return TokenInfo.from_json(await self._http.send(calls.token_create(name, role)))

    async def list(self) -> list[TokenInfo]:
        data = await self._http.send(calls.token_list())
        return [TokenInfo.from_json(t) for t in data.get("items") or []]

    async def delete(self, token_id: str) -> None:
        await self._http.send(calls.token_delete(token_id))
