"""`POST /batch`: several API calls in one request, run in order, sync or async.

Each call goes through this same app in-process (an httpx client over
`ASGITransport`), carrying the batch caller's `Authorization` header, so auth,
roles, validation, idempotency and errors are exactly those of a direct call:
a viewer's `POST /executions` answers 403 in its slot while the batch is 200.
Nothing here knows any other route; the batch is a client of the API.

`sync=false` records an execution of the internal workflow `conveyor.batch`
(created running and held by this process, see
`ExecutionService.begin_internal`), answers 202 with it, and runs the calls
in a task on this process's event loop, renewing the lease while it runs. Its
result is the same `{"results", "stopped_at"}` a sync batch answers. The
caller's Authorization header lives only in that task's memory, never in the
store. If this process dies, the lease runs out and the execution fails with
WorkerLost; a cancel stops it before its next call.

`run_calls` and `parse_calls` are the reusable parts, for dialects that map
their own batch calls (Jelastic's Batch.Call) onto this one.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import secrets
import socket
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from conveyor.api.auth import Viewer
from conveyor.api.deps import Service
from conveyor.api.errors import error_body
from conveyor.api.idempotency import Idempotent
from conveyor.api.schemas import COMMON_ERRORS, ExecutionOut
from conveyor.api.serialize import execution_doc
from conveyor.core import states
from conveyor.core.errors import InvalidRequest
from conveyor.core.executions import ExecutionService
from conveyor.core.model import ErrorInfo

log = logging.getLogger("conveyor.api.batch")

API_PREFIX = "/api/v1"
BATCH_PATH = f"{API_PREFIX}/batch"
BATCH_WORKFLOW = "conveyor.batch"
MAX_CALLS = 100
METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE")
MUTATING = frozenset({"POST", "PATCH", "PUT", "DELETE"})
MAX_PATH = 2000
#: How long the lease of an async batch lasts, and how often it is renewed (app.state can override both).
LEASE_SECONDS = 30.0
HEARTBEAT_INTERVAL = 5.0

QueryScalar = str | int | float | bool | None
QueryValue = QueryScalar | list[QueryScalar]

router = APIRouter(tags=["batch"], responses=COMMON_ERRORS)


# --- request and answer models (OpenAPI) ------------------------------------------------


class BatchCallIn(BaseModel):
    """One call of a batch: what a client would send on its own."""

    model_config = ConfigDict(extra="forbid")

    method: str = Field(
        description="GET, POST, PATCH, PUT or DELETE (any case).", json_schema_extra={"enum": list(METHODS)}
    )
    path: str = Field(
        description="Under /api/v1, either in full (`/api/v1/executions`) or relative to it (`/executions`). "
        "Not /batch itself, nor an events stream. A `?query` part is allowed.",
        examples=["/executions"],
    )
    body: Any = Field(default=None, description="The JSON body, or null for none.")
    query: dict[str, QueryValue] | None = Field(
        default=None,
        description="Query parameters, merged into a `?query` of the path (overriding its names); "
        "a list repeats the parameter, null leaves it out.",
    )


class BatchBody(BaseModel):
    """Calls to run in order, each through the same auth and validation as a direct call."""

    model_config = ConfigDict(extra="forbid")

    calls: list[BatchCallIn] = Field(json_schema_extra={"minItems": 1, "maxItems": MAX_CALLS})
    sync: bool = Field(
        default=True,
        description="true: answer 200 with the results. false: answer 202 with an execution of "
        f"`{BATCH_WORKFLOW}` that runs the calls and holds the results as its `result`.",
    )
    stop_on_error: bool = Field(
        default=False,
        description="Stop at the first call answering 4xx/5xx; later calls are reported as skipped.",
    )


class BatchResultOut(BaseModel):
    index: int = Field(description="The call's position in `calls`, from 0.")
    method: str
    path: str = Field(description="The full path that was called (under /api/v1).")
    status: int | None = Field(description="The HTTP status the call answered; null when skipped.")
    body: Any = Field(
        default=None,
        description="What the call answered: JSON, text for a non-JSON answer, null when empty or skipped.",
    )
    skipped: bool = Field(default=False, description="true when stop_on_error left this call out.")


class BatchOut(BaseModel):
    results: list[BatchResultOut]
    stopped_at: int | None = Field(
        description="With stop_on_error: the index of the call whose error stopped the batch; else null."
    )


class BatchAccepted(BaseModel):
    execution_id: str
    execution: ExecutionOut


# --- parsing ----------------------------------------------------------------------------


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
    final = httpx.URL("http://batch" + path).path
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


# --- async batches: an execution held by this process -------------------------------------


def _holder(app: FastAPI) -> str:
    """This server process's holder id for the executions it runs itself (set once per app)."""
    holder: str | None = getattr(app.state, "batch_holder", None)
    if holder is None:
        holder = f"api:{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(2)}"
        app.state.batch_holder = holder
    return holder


def _tasks(app: FastAPI) -> set[asyncio.Task[None]]:
    """Running background batches, referenced so the loop does not drop them half-way."""
    tasks: set[asyncio.Task[None]] | None = getattr(app.state, "batch_tasks", None)
    if tasks is None:
        tasks = set()
        app.state.batch_tasks = tasks
    return tasks


@dataclass
class _Held:
    """One async batch's hold on its execution, renewed by a heartbeat task."""

    service: ExecutionService
    holder: str
    execution_id: str
    lease_seconds: float
    interval: float
    cancelled: bool = False  # a cancel was asked: stop before the next call
    lost: bool = False  # no longer ours (force-cancelled, deleted, reaped)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def _beat(self) -> None:
        seen = self.service.store.heartbeat(
            self.holder, [self.execution_id], lease_until=self.service.lease_until(self.lease_seconds)
        )
        status = seen.get(self.execution_id)
        if status is None:
            self.lost = True
        elif status in states.CANCELLING_STATES:
            self.cancelled = True

    async def keep(self) -> None:
        while not self.done.is_set() and not self.lost:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.done.wait(), self.interval)
                return
            try:
                await run_in_threadpool(self._beat)
            except Exception:  # one failed renewal is survivable: the lease outlasts several intervals
                log.exception("could not renew the lease of batch execution %s", self.execution_id)

    @property
    def stopping(self) -> bool:
        return self.cancelled or self.lost


async def _run_in_background(
    app: FastAPI,
    held: _Held,
    calls: list[BatchCall],
    *,
    authorization: str | None,
    stop_on_error: bool,
    idempotency_key: str | None,
) -> None:
    service, ex_id, total = held.service, held.execution_id, len(calls)
    ran = 0
    stopped_by_cancel = False

    async def before_call(index: int) -> bool:
        nonlocal stopped_by_cancel
        stopped_by_cancel = held.stopping
        return not stopped_by_cancel

    async def after_call(index: int, result: dict[str, Any]) -> None:
        nonlocal ran
        ran = index + 1
        if held.lost:
            return
        status = result["status"]
        level = "warning" if status >= 400 else "info"
        text = f"call {index}: {result['method']} {result['path']} answered {status}"
        await run_in_threadpool(service.message, ex_id, text, level=level)
        await run_in_threadpool(service.store.set_progress, held.holder, ex_id, ran, total, None)

    def confirm_cancelled() -> bool:
        now = service.clock.now()
        step = lambda e: states.transition(e, states.ConfirmCancelled(now))  # noqa: E731
        return service.store.finish([(ex_id, held.holder, step)], now=now)[0] is not None

    def finish(outcome: dict[str, Any]) -> None:
        if held.lost:
            log.warning(
                "batch execution %s was taken from this server after %d of %d calls", ex_id, ran, total
            )
        elif stopped_by_cancel:
            service.message(ex_id, f"cancelled after {ran} of {total} calls", level="warning")
            confirm_cancelled()
        elif service.finish_internal(ex_id, held.holder, result=outcome) is None and not confirm_cancelled():
            # (a kill asked during the last call refuses the success, so the cancel is confirmed instead)
            log.warning("batch execution %s ended elsewhere before its result was recorded", ex_id)

    keeper = asyncio.create_task(held.keep())
    try:
        await run_in_threadpool(service.store.set_progress, held.holder, ex_id, 0, total, None)
        outcome = await run_calls(
            app,
            calls,
            authorization=authorization,
            stop_on_error=stop_on_error,
            idempotency_key=idempotency_key,
            before_call=before_call,
            after_call=after_call,
        )
        held.done.set()
        await keeper
        await run_in_threadpool(finish, outcome)
    except asyncio.CancelledError:  # the server is stopping: say so now rather than when the lease runs out
        held.done.set()
        error = ErrorInfo(
            "Interrupted", f"the server stopped while running this batch, after {ran} of {total} calls"
        )
        with contextlib.suppress(Exception):
            service.finish_internal(ex_id, held.holder, error=error)
        raise
    except Exception as exc:
        held.done.set()
        log.exception("batch execution %s failed", ex_id)
        error = ErrorInfo(type(exc).__name__, f"{exc} (after {ran} of {total} calls)", traceback.format_exc())
        try:
            await run_in_threadpool(lambda: service.finish_internal(ex_id, held.holder, error=error))
        except Exception:
            log.exception("could not record the failure of batch execution %s", ex_id)
    finally:
        keeper.cancel()


async def start_in_background(
    app: FastAPI,
    service: ExecutionService,
    calls: list[BatchCall],
    *,
    created_by: str,
    authorization: str | None,
    stop_on_error: bool,
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    """Record the batch's execution (running, held here), start its task; the 202 answer's document."""
    holder = _holder(app)
    lease_seconds = float(getattr(app.state, "batch_lease_seconds", LEASE_SECONDS))
    interval = float(getattr(app.state, "batch_heartbeat_interval", HEARTBEAT_INTERVAL))
    parameters = {"calls": [c.doc() for c in calls], "stop_on_error": stop_on_error}
    ex = await run_in_threadpool(
        lambda: service.begin_internal(
            BATCH_WORKFLOW, parameters, created_by=created_by, holder=holder, lease_seconds=lease_seconds
        )
    )
    held = _Held(service, holder, ex.id, lease_seconds, interval)
    task = asyncio.create_task(
        _run_in_background(
            app,
            held,
            calls,
            authorization=authorization,
            stop_on_error=stop_on_error,
            idempotency_key=idempotency_key,
        ),
        name=f"batch {ex.id}",
    )
    tasks = _tasks(app)
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    return {"execution_id": ex.id, "execution": execution_doc(ex)}


# --- the route --------------------------------------------------------------------------


def _already_answered() -> Any:  # pragma: no cover - only called when no answer is stored
    raise AssertionError("an idempotent replay ran its producer")


@router.post(
    "/batch",
    response_model=BatchOut,
    responses={
        202: {"model": BatchAccepted, "description": "sync=false: the execution that runs the calls"},
    },
    summary="Run several calls in one request",
    description="Runs `calls` in order, each exactly as if sent on its own by the same caller (the "
    "batch needs the viewer role; each call is checked for its own). A failing call does not stop the "
    "others unless `stop_on_error`. The batch answers 200 whatever its calls answered; each result "
    "holds its call's status and body. With `sync=false` it answers 202 with an execution whose "
    "result, once it succeeds, is that same document. With an `Idempotency-Key`, a repeated batch "
    "gets the first answer, and each mutating call carries a key derived from it.",
)
async def run_batch(
    body: BatchBody,
    request: Request,
    service: Service,
    principal: Viewer,
    idem: Idempotent,
) -> Response:
    calls = parse_calls(body.calls, background=not body.sync)
    key = idem.scoped_key
    if key is not None and await run_in_threadpool(service.store.get_idempotent, key) is not None:
        return await run_in_threadpool(idem.run, 200, _already_answered)  # replays the stored answer
    authorization = request.headers.get("authorization")
    app: FastAPI = request.app
    if body.sync:
        status = 200
        content = await run_calls(
            app, calls, authorization=authorization, stop_on_error=body.stop_on_error, idempotency_key=key
        )
    else:
        status = 202
        content = await start_in_background(
            app,
            service,
            calls,
            created_by=principal.name,
            authorization=authorization,
            stop_on_error=body.stop_on_error,
            idempotency_key=key,
        )
    return await run_in_threadpool(idem.run, status, lambda: content)
