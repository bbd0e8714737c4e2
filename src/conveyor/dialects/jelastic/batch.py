"""`utils.Batch.Call`: several Jelastic methods in one request.

`request` is JSON: `{"alias": {"m": "Group.Class.Method"}, "global": {...params merged into every
call...}, "methods": [{"m": {"params": {...}}}, ...]}`. A method entry may also name the method in
full instead of an alias (`{"utils.scheduler.GetTasks": {"params": {...}}}`), give its params
directly (`{"m": {...}}`), or be `{"method": "...", "params": {...}}`. A call's own `session`
(in its params or `global`) makes it run as that token's holder; otherwise it runs as the
batch's caller.

`sync=True`: the calls run in order, in this process, through the same methods as the
`/1.0/utils/scheduler/rest/...` routes, and the answer is `{"result": 0, "responses": [<each
call's own answer>, ...]}`; a failing call answers in its slot and the others still run.

`sync=False` (py-jelastic's default): each call is translated to the native API call it stands
for (`GetTasks` -> `GET /api/v1/schedules`, `CreateAccountTask` -> `POST /api/v1/schedules`, ...)
and they run in the native batch's background mode: the answer is `{"result": 0, "responses": [],
"executionId": ...}` at once, and that execution of `conveyor.batch` holds the native answers as
its result when it ends. Only scheduler methods can run this way, all with the batch's session.

A `ruk` makes the whole batch idempotent (a repeat gets the first answer), and each mutating call
of a sync batch gets a `ruk` derived from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from conveyor.api.auth import Principal
from conveyor.api.batch_background import start_in_background
from conveyor.api.batch_calls import parse_calls
from conveyor.api.batch_models import MAX_CALLS, BatchCallIn
from conveyor.core.errors import ConveyorError, InvalidRequest
from conveyor.core.executions import MAX_PAGE
from conveyor.dialects.jelastic.dispatch import Server, authenticate, invoke, remember, replay, ruk_key
from conveyor.dialects.jelastic.scheduler import METHODS, Method
from conveyor.dialects.jelastic.wire import (
    UnknownMethod,
    bool_param,
    failure_of,
    json_object_param,
    list_param,
    ok,
    parse_jelastic_trigger,
    schedule_id,
    text_param,
)

BATCH_METHOD: Final = "utils.batch.call"


@dataclass(frozen=True, slots=True)
class Planned:
    """One call of the batch: the method as named, and its params (global merged in, names lower-cased)."""

    index: int
    name: str
    params: dict[str, Any]


def _refuse(index: int, message: str) -> InvalidRequest:
    return InvalidRequest(f"methods[{index}]: {message}", {"field": f"methods.{index}", "index": index})


def _lower(params: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k).lower(): v for k, v in params.items()}


def plan(params: Mapping[str, Any]) -> list[Planned]:
    """Read `request`; every entry is checked before any call runs."""
    request = json_object_param(params, "request")
    if not request:
        raise InvalidRequest(
            'the parameter \'request\' is required: {"alias": {...}, "global": {...}, "methods": [...]}',
            {"field": "request"},
        )
    alias = request.get("alias")
    alias = {} if alias is None else alias
    common = request.get("global")
    common = {} if common is None else common
    methods = request.get("methods")
    if not isinstance(alias, dict) or not all(isinstance(v, str) for v in alias.values()):
        raise InvalidRequest('request.alias must map short names to "Group.Class.Method"', {"field": "alias"})
    if not isinstance(common, dict):
        raise InvalidRequest("request.global must be a JSON object of params", {"field": "global"})
    if not isinstance(methods, list) or not 1 <= len(methods) <= MAX_CALLS:
        raise InvalidRequest(
            f"request.methods must be a list of 1 to {MAX_CALLS} calls, e.g. "
            '[{"m": {"params": {...}}}]',
            {"field": "methods"},
        )
    out: list[Planned] = []
    for index, item in enumerate(methods):
        if not isinstance(item, dict) or not item:
            raise _refuse(index, 'each call is an object such as {"alias": {"params": {...}}}')
        if "method" in item:
            name, value = item["method"], {"params": item.get("params")}
        elif len(item) == 1:
            key, value = next(iter(item.items()))
            name = alias.get(key, key)
        else:
            raise _refuse(index, f"a call names exactly one method, not {', '.join(map(str, item))}")
        if not isinstance(name, str) or not name.strip():
            raise _refuse(index, "the method name is empty")
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise _refuse(index, f"the call of {name} must be an object with its params")
        own = value.get("params", value)
        if own is None:
            own = {}
        if not isinstance(own, dict):
            raise _refuse(index, f"the params of {name} must be a JSON object")
        out.append(Planned(index, name.strip(), {**_lower(common), **_lower(own)}))
    return out


def _method(planned: Planned) -> Method:
    key = planned.name.lower()
    if key == BATCH_METHOD:
        raise _refuse(planned.index, "a batch cannot contain another batch")
    method = METHODS.get(key)
    if method is None:
        known = ", ".join(m.name for m in METHODS.values())
        raise UnknownMethod(
            f"methods[{planned.index}]: method {planned.name!r} is not served by this server; it serves "
            f"{known}",
            {"index": planned.index, "method": planned.name},
        )
    return method


# --- sync: in this process ---------------------------------------------------------------------


async def _run_one(
    server: Server, planned: Planned, principal: Principal, session: str | None, ruk: str | None
) -> dict[str, Any]:
    try:
        method = _method(planned)
        caller = principal
        own_session = text_param(planned.params, "session")
        if own_session and own_session != session:
            caller = await run_in_threadpool(authenticate, server.authenticator, own_session, None)
        own_ruk = text_param(planned.params, "ruk") or (f"{ruk}#{planned.index}" if ruk else None)
    except ConveyorError as exc:
        return failure_of(exc)
    return await run_in_threadpool(invoke, server, method, planned.params, caller, own_ruk)


# --- async: the native batch's background mode ---------------------------------------------------


def _prefixed(index: int, exc: ConveyorError) -> ConveyorError:
    """The error with the call's index in front, keeping its code."""
    if exc.message.startswith("methods["):
        return exc
    err = ConveyorError(f"methods[{index}]: {exc.message}", {**exc.details, "index": index})
    err.code = exc.code
    return err


def native_call(planned: Planned, principal: Principal) -> BatchCallIn:
    """The native API call a scheduler method stands for (a bad parameter refuses the batch now)."""
    method = _method(planned)
    p = planned.params
    verb = method.name.rsplit(".", 1)[1].lower()
    if verb == "gettasks":
        raw_ids = list_param(p, "ids")
        query: dict[str, Any] = {"limit": MAX_PAGE}
        if raw_ids:
            query["ids"] = ",".join(schedule_id(i, "ids") for i in raw_ids)
        else:
            query["owner"] = principal.name
        return BatchCallIn(method="GET", path="/schedules", query=query)
    if verb == "deletetasks":
        raw_ids = list_param(p, "ids")
        if not raw_ids:
            raise InvalidRequest("pass the tasks to delete as ids", {"field": "ids"})
        ids = ",".join(schedule_id(i, "ids") for i in raw_ids)
        return BatchCallIn(method="DELETE", path="/schedules", query={"ids": ids})
    if verb == "unscheduletasks":
        return BatchCallIn(method="POST", path="/schedules:unschedule-all")
    if verb == "rescheduletasks":
        return BatchCallIn(method="POST", path="/schedules:reschedule-all")
    body: dict[str, Any] = {}
    script = text_param(p, "script", required=verb != "edittask")
    if script is not None:
        body["workflow"] = script
    if verb != "edittask" or text_param(p, "trigger") is not None:
        trigger = parse_jelastic_trigger(p.get("trigger"))
        body["trigger"] = trigger.to_text()
        body["timezone"] = trigger.timezone
    given = json_object_param(p, "params")
    if given is not None or verb != "edittask":
        body["parameters"] = body["params"] = given or {}
    if p.get("description") is not None:
        body["description"] = str(p["description"])
    env_name = text_param(p, "envname", required=verb == "createenvtask")
    if env_name is not None and verb != "createaccounttask":
        body["target"] = env_name
    if verb == "edittask":
        raw = p.get("id")
        if raw is None or not str(raw).strip():
            raise InvalidRequest("the parameter 'id' (the task to change) is required", {"field": "id"})
        return BatchCallIn(method="PATCH", path=f"/schedules/{schedule_id(raw)}", body=body)
    return BatchCallIn(method="POST", path="/schedules", body=body)


async def _start_async(
    app: FastAPI,
    server: Server,
    planned: list[Planned],
    principal: Principal,
    session: str | None,
    key: str | None,
) -> dict[str, Any]:
    calls_in: list[BatchCallIn] = []
    for item in planned:
        own = text_param(item.params, "session")
        if own and own != session:
            raise _refuse(
                item.index, "an async batch (sync=False) runs every call with the batch's own session"
            )
        try:
            calls_in.append(native_call(item, principal))
        except UnknownMethod as exc:
            raise UnknownMethod(
                f"{exc.message} (an async batch, sync=False, takes scheduler methods only)", exc.details
            ) from None
        except ConveyorError as exc:
            raise _prefixed(item.index, exc) from None
    calls = parse_calls(calls_in, background=True)
    authorization = f"Bearer {session}" if session and principal.token_id is not None else None
    accepted = await start_in_background(
        app,
        server.service,
        calls,
        created_by=principal.name,
        authorization=authorization,
        stop_on_error=False,
        idempotency_key=key,
    )
    execution = accepted["execution"]
    return ok(sync=False, responses=[], executionId=accepted["execution_id"], status=execution.get("status"))


async def call(
    app: FastAPI,
    server: Server,
    params: Mapping[str, Any],
    principal: Principal,
    session: str | None,
    ruk: str | None,
) -> dict[str, Any]:
    """`utils.batch.Call`: the Jelastic answer (never raises for a domain error)."""
    key = ruk_key(principal, ruk) if ruk else None
    try:
        stored = await run_in_threadpool(replay, server.answers, key)
        if stored is not None:
            return stored
        sync = bool_param(params, "sync", False)
        planned = plan(params)
        if sync:
            responses = [await _run_one(server, item, principal, session, ruk) for item in planned]
            answer = ok(sync=True, responses=responses)
        else:
            answer = await _start_async(app, server, planned, principal, session, key)
    except ConveyorError as exc:
        answer = failure_of(exc)
    return await run_in_threadpool(remember, server.answers, key, answer)
