"""The async transport: sends a `Call` with httpx and decodes the answer (see `conveyor.client.http`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from conveyor.client import http
from conveyor.client.calls import Call


class AsyncHTTP:
    def __init__(
        self,
        url: str | None,
        token: str | None,
        timeout: float | None,
        transport: httpx.AsyncBaseTransport | None,
    ) -> None:
        self.url = http.resolve_url(url)
        self.token = http.resolve_token(token)
        self.timeout = timeout
        self._client = httpx.AsyncClient(
            base_url=self.url + http.API_PREFIX,
            headers=http.headers(self.token),
            timeout=timeout,
            transport=transport,
        )

    async def send(self, call: Call) -> Any:
        try:
            response = await self._client.request(call.method, call.path, **http.request_kwargs(call))
        except httpx.TransportError as exc:
            raise http.connection_error(self.url, exc) from exc
        return http.decode(self.url, response)

    @asynccontextmanager
    async def stream(self, call: Call) -> AsyncIterator[httpx.Response]:
        """An open streaming response; error answers raise before the body is read."""
        try:
            async with self._client.stream(
                call.method, call.path, timeout=http.stream_timeout(self.timeout), **http.request_kwargs(call)
            ) as response:
                if response.status_code >= 400:
                    await response.aread()
                    http.decode(self.url, response)
                yield response
        except httpx.TransportError as exc:
            raise http.connection_error(self.url, exc) from exc

    async def aclose(self) -> None:
        await self._client.aclose()
