"""Batch call dispatch: check a batch's calls, then send them in order through the app itself.

Apart from the route (batch) and the async runner (batch_background) because this is the
reusable core: sync batches, async batches and dialects that map their own batch calls
(Jelastic's Batch.Call) all run calls through `parse_calls` and `run_calls`. Each call goes
through the same app in-process (an httpx client over `ASGITransport`) carrying the batch
caller's `Authorization` header, so auth, roles, validation, idempotency and errors are
exactly those of a direct call.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI

from conveyor.api.batch_models import MAX_CALLS, METHODS, BatchCallIn
from conveyor.api.errors import error_body
from conveyor.core.errors import InvalidRequest

log = logging.getLogger("conveyor.api.batch")

API_PREFIX = "/api/v1"
BATCH_PATH = f"{API_PREFIX}/batch"
MUTATING = frozenset({"POST", "PATCH", "PUT", "DELETE"})
MAX_PATH = 2000


@dataclass(frozen=True, slots=True)
class BatchCall:
    """A validated call: method upper-cased, path made absolute and normalized as it will be sent."""

    method: str
    path: str
    body: Any = None
    query: dict[str, Any] = field(default_factory=dict)

    def doc(self) -> dict[str, Any]:
        return {"method": self.method, "path": self.path, "body": self.body, "query": self.query}


def _refuse(index: int, what: str, name: str) -> InvalidRequest:
    return InvalidRequest(f"call {index}: {what}", {"field": f"calls.{index}.{name}", "index": index})


def _absolute(index: int, raw: str) -> str:
    """The path the app will see: relative paths go under /api/v1; dots and %-escapes resolved by httpx."""
    path = raw.strip()
    if not path:
        raise _refuse(index, "the path is empty", "path")
    if len(path) > MAX_PATH:
        raise _refuse(index, f"the path is longer than {MAX_PATH} characters", "path")
    if "://" in path:
        raise _refuse(index, f"give a path under {API_PREFIX}, not a URL ({raw!r})", "path")
    if not path.startswith("/"):
        path = "/" + path
    if path != API_PREFIX and not path.startswith(API_PREFIX + "/") and not path.startswith(API_PREFIX + "?"):
        if path == "/api" or path.startswith("/api/"):
            raise _refuse(index, f"the path {raw!r} is outside {API_PREFIX}", "path")
        path = API_PREFIX + path
    # Exactly what the app will route on: httpx resolves ./.. and decodes %-escapes once.
    try:
        final = httpx.URL("http://batch" + path).path
    except httpx.InvalidURL as exc:  # control characters, spaces in odd places, ...
        raise _refuse(index, f"the path {raw!r} is not a valid URL path: {exc}", "path") from None
    if final != API_PREFIX and not final.startswith(API_PREFIX + "/"):
        raise _refuse(index, f"the path {raw!r} leads outside {API_PREFIX} ({final})", "path")
    bare = final.rstrip("/")
    if bare == BATCH_PATH or bare.startswith(BATCH_PATH + "/"):
        raise _refuse(index, "a batch cannot contain another batch", "path")
    if bare.endswith("/events/stream"):
        raise _refuse(index, "an events stream cannot be batched (it stays open); use .../events", "path")
    return path


def parse_calls(calls: Sequence[BatchCallIn], *, background: bool = False) -> list[BatchCall]:
    """Check every call before any runs, so a bad batch changes nothing; errors name the call's index.

    `background`: the calls will run in an execution whose result every viewer can read, so calls
    whose answers only an admin may see (tokens and their secrets) are refused.
    """
    if not 1 <= len(calls) <= MAX_CALLS:
        raise InvalidRequest(
            f"a batch takes 1 to {MAX_CALLS} calls, not {len(calls)}", {"field": "calls", "count": len(calls)}
        )
    out: list[BatchCall] = []
    for index, call in enumerate(calls):
        method = call.method.strip().upper()
        if method not in METHODS:
            raise _refuse(index, f"method {call.method!r} is not one of {', '.join(METHODS)}", "method")
        path = _absolute(index, call.path)
        if background:
            bare = httpx.URL("http://batch" + path).path.rstrip("/")
            if bare == f"{API_PREFIX}/tokens" or bare.startswith(f"{API_PREFIX}/tokens/"):
                raise _refuse(
                    index,
                    "token calls cannot run in an async batch: its result is readable by every viewer "
                    "(use sync=true)",
                    "path",
                )
        query = {k: v for k, v in (call.query or {}).items() if v is not None}
        out.append(BatchCall(method, path, call.body, query))
    return out


# --- running ----------------------------------------------------------------------------


def _body_of(response: httpx.Response) -> Any:
    if not response.content:
        return None
    if "json" in response.headers.get("content-type", ""):
        try:
            return response.json()
        except ValueError:
            pass
    return response.text


def _derived_key(batch_key: str, index: int) -> str:
    """A mutating call's own Idempotency-Key when the batch has one: a retried batch replays its calls."""
    digest = hashlib.sha256(batch_key.encode()).hexdigest()[:32]
    return f"batch:{digest}:{index}"


async def _send(http: httpx.AsyncClient, call: BatchCall, headers: dict[str, str]) -> tuple[int, Any]:
    try:
        url = httpx.URL(call.path)
        if call.query:  # merged into a ?query of the path (httpx would replace it), overriding its names
            url = url.copy_merge_params(call.query)
        response = await http.request(
            call.method,
            url,
            content=None if call.body is None else json.dumps(call.body, ensure_ascii=False),
            headers=headers if call.body is None else {**headers, "Content-Type": "application/json"},
        )
    except Exception:  # the app answers its own errors; reaching here is a bug, reported in the slot
        reference = secrets.token_hex(6)
        log.exception("batch call %s %s failed (reference %s)", call.method, call.path, reference)
        body = error_body(
            "internal_error",
            f"internal error while running this call; the server log has the details (reference {reference})",
            {"reference": reference},
        )
        return 500, body
    return response.status_code, _body_of(response)


def skipped(index: int, call: BatchCall) -> dict[str, Any]:
    return {"index": index, "method": call.method, "path": call.path, "status": None, "body": None,
            "skipped": True}  # fmt: skip


async def run_calls(
    app: FastAPI,
    calls: Sequence[BatchCall],
    *,
    authorization: str | None,
    stop_on_error: bool = False,
    idempotency_key: str | None = None,
    before_call: Callable[[int], Awaitable[bool]] | None = None,
    after_call: Callable[[int, dict[str, Any]], Awaitable[None]] | None = None,
) -> dict[str, Any]:
    """Run `calls` in order through `app` as the holder of `authorization`; `{"results", "stopped_at"}`.

    `before_call(i)` returning False stops the batch before call i (the rest are reported skipped);
    `after_call(i, result)` sees each result as it comes.
    """
    base: dict[str, str] = {"Accept": "application/json", "User-Agent": "conveyor-batch"}
    if authorization:
        base["Authorization"] = authorization
    results: list[dict[str, Any]] = []
    stopped_at: int | None = None
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://batch", timeout=None) as http:
        for index, call in enumerate(calls):
            if stopped_at is not None or (before_call is not None and not await before_call(index)):
                results.extend(skipped(i, c) for i, c in enumerate(calls[index:], start=index))
                break
            headers = dict(base)
            if idempotency_key is not None and call.method in MUTATING:
                headers["Idempotency-Key"] = _derived_key(idempotency_key, index)
            status, body = await _send(http, call, headers)
            result = {"index": index, "method": call.method, "path": call.path, "status": status,
                      "body": body, "skipped": False}  # fmt: skip
            results.append(result)
            if after_call is not None:
                await after_call(index, result)
            if stop_on_error and status >= 400:
                stopped_at = index
    return {"results": results, "stopped_at": stopped_at}
