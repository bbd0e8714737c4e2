"""`/api/cluster/jobs`: Conveyor executions as ONTAP jobs, for the `netapp_ontap` library.

A thin router over `ExecutionService` (no SQL here); see `mapping` for how an
execution reads as a job and `query` for ONTAP's query syntax. What it answers:

- `GET /api/cluster/jobs`: `fields` (`a,b`, `*`, `**`; without it only `uuid` and
  `_links`, as ONTAP), field queries, `order_by`, `max_records` (default 10,000),
  `return_records=false` (the count in `num_records`), `return_timeout`. A page
  ends at `max_records` matches, after reading SCAN_BUDGET rows, or after
  `return_timeout` seconds, whichever comes first; then `_links.next.href` is a
  relative link carrying every parameter of the request plus `start.cursor`.
- `GET /api/cluster/jobs/{uuid}`: every field, or those `fields` names.
- `PATCH /api/cluster/jobs/{uuid}?action=pause|resume|cancel`: 200 `{}`.
  `cancel` asks the job to stop at its next checkpoint (a waiting job is
  cancelled at once); `pause` likewise; `resume` only takes a paused job.
- `PATCH /api/cluster/jobs?<query>&action=...`: the same on every matching job,
  200 `{"num_records": <patched>}`. It stops at the first job that refuses
  (`continue_on_failure=true` tries them all) and then answers that job's error.
- A job is gone (404, left out of lists and counts) once it ended 300 s ago by
  the service's clock, as ONTAP deletes it then; the execution itself stays for
  the native API until Conveyor's own retention removes it.
- Auth: HTTP Basic with the Conveyor token as the password (the user name is
  ignored); a Bearer header works too. Viewers may read, operators may patch.
  An open server stays open: credentials that are not a token are ignored there
  (the library always sends some), a valid token still names the caller.
- Errors: `{"error": {"message", "code", "target"?}}` with string codes (see `errors`).
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from conveyor.api.auth import ANONYMOUS, OPEN, Authenticator, Principal
from conveyor.api.deps import dump
from conveyor.core.errors import ConveyorError, Unauthorized
from conveyor.core.executions import MAX_PAGE, ExecutionService
from conveyor.core.model import TERMINAL, Execution, Role, Status
from conveyor.core.states import CANCELLING_STATES
from conveyor.dialects.ontap import errors
from conveyor.dialects.ontap.errors import OntapError
from conveyor.dialects.ontap.mapping import JOBS_PATH, hidden_before, job_record, visible
from conveyor.dialects.ontap.query import (
    CURSOR_PARAM,
    DEFAULT_MAX_RECORDS,
    DEFAULT_RETURN_TIMEOUT,
    MAX_RETURN_TIMEOUT,
    JobQuery,
    Position,
    build_query,
    parse_bool,
    parse_fields,
    parse_int,
    parse_order_by,
    project,
)

MEDIA_TYPE = "application/hal+json"
#: Rows read from the store for one page at most; a page that reaches it ends early with a next link.
SCAN_BUDGET = 10_000
ACTIONS = ("pause", "resume", "cancel")

_LIST_CONTROLS = frozenset(
    {"fields", "max_records", "return_records", "return_timeout", "order_by", CURSOR_PARAM}
)
_GET_CONTROLS = frozenset({"fields", "return_timeout"})
_PATCH_CONTROLS = frozenset({"action", "return_timeout"})
_BULK_PATCH_CONTROLS = frozenset({"action", "return_timeout", "continue_on_failure", "serial_records"})

router = APIRouter(tags=["ONTAP jobs"], include_in_schema=False)  # not part of the native API document


# --- plumbing -------------------------------------------------------------------------


def answer(content: Any, status_code: int = 200) -> Response:
    """A JSON body that starts with `{` (the library tells JSON from multipart by that)."""
    return Response(dump(content), status_code=status_code, media_type=MEDIA_TYPE)


def error_answer(err: OntapError) -> Response:
    headers = {"WWW-Authenticate": 'Basic realm="conveyor"'} if err.status == 401 else None
    return Response(dump(err.body()), status_code=err.status, media_type=MEDIA_TYPE, headers=headers)


def guarded(work: Callable[[], Response]) -> Response:
    """Run `work`, answering any domain error in ONTAP's envelope; bugs go to the app's 500 handler."""
    try:
        return work()
    except OntapError as err:
        return error_answer(err)
    except ConveyorError as exc:
        return error_answer(errors.from_conveyor(exc))


def _service(request: Request) -> ExecutionService:
    service: ExecutionService = request.app.state.service
    return service


def _as_bearer(header: str | None) -> str | None:
    """The Authorization header to check, with Basic credentials turned into the token they carry."""
    if header is None or not header.strip():
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return header
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthorized("the Basic credentials are not valid base64 of 'user:password'") from None
    _, sep, password = decoded.partition(":")
    if not sep or not password:
        raise Unauthorized("send the Conveyor token as the password of HTTP Basic (the user name is ignored)")
    return f"Bearer {password}"


def authenticate(request: Request, role: Role) -> Principal:
    authenticator: Authenticator = request.app.state.authenticator
    header = request.headers.get("authorization")
    try:
        principal = authenticator.authenticate(_as_bearer(header))
    except Unauthorized as exc:
        scheme = (header or "").strip().partition(" ")[0].lower()
        if authenticator.mode == OPEN and scheme == "basic":
            principal = ANONYMOUS  # open server: the library always sends credentials, none are needed
        elif scheme == "bearer":
            raise OntapError(401, errors.PERMISSION, exc.message) from None
        else:
            hint = "send a Conveyor token as the HTTP Basic password (any user name)"
            message = f"{exc.message}; {hint}" if scheme == "basic" else f"this server needs a token: {hint}"
            raise OntapError(401, errors.PERMISSION, message) from None
    if not principal.may(role):
        raise OntapError(
            403,
            errors.PERMISSION,
            f"{principal.name!r} has the {principal.role} role; this needs {role} or more",
        )
    return principal


@dataclass(frozen=True, slots=True)
class Params:
    """A request's query: control parameters by name (last value wins) and field filters in order."""

    controls: dict[str, str]
    filters: list[tuple[str, str]]

    @classmethod
    def read(cls, request: Request, controls: frozenset[str], *, filters_allowed: bool) -> Params:
        found: dict[str, str] = {}
        filters: list[tuple[str, str]] = []
        for name, value in request.query_params.multi_items():
            if name in controls:
                found[name] = value
            elif filters_allowed:
                filters.append((name, value))
            else:
                raise errors.unexpected_argument(name)
        return cls(found, filters)


def return_timeout(controls: dict[str, str]) -> int:
    """ONTAP's `return_timeout` (0 to 120 s, default 15): how long a page may take to gather."""
    raw = controls.get("return_timeout")
    return parse_int(raw, "return_timeout", DEFAULT_RETURN_TIMEOUT, 0, MAX_RETURN_TIMEOUT)


def _next_href(request: Request, position: Position) -> str:
    items = [(k, v) for k, v in request.query_params.multi_items() if k != CURSOR_PARAM]
    items.append((CURSOR_PARAM, position.encode()))
    return f"{JOBS_PATH}?{urlencode(items, quote_via=quote, safe='')}"


def _self_href(request: Request) -> str:
    query = request.url.query
    return f"{request.url.path}?{query}" if query else request.url.path


# --- reading ----------------------------------------------------------------------------


@dataclass(slots=True)
class Scan:
    """Matching jobs of one page and where the next page starts (None: this was the last)."""

    jobs: list[tuple[Execution, dict[str, Any]]]
    next: Position | None


def scan(
    service: ExecutionService,
    query: JobQuery,
    *,
    sort: tuple[str, ...] = ("id",),
    start: Position | None = None,
    limit: int | None = None,
    budget: int | None = None,
    deadline: float | None = None,
) -> Scan:
    """List through the store with the pushed-down filter and keep the jobs the whole query matches.

    Stops after `limit` matches, `budget` rows read or the monotonic `deadline`, and
    says where to go on; without them it reads to the end.
    """
    found: list[tuple[Execution, dict[str, Any]]] = []
    if query.empty:
        return Scan(found, None)
    now = service.clock.now()
    position = start or Position()
    read = 0
    while True:
        want = MAX_PAGE if limit is None else max(limit - len(found), 100)
        page = service.list(
            query.store_filter, sort=sort, limit=min(MAX_PAGE, position.skip + want), cursor=position.cursor
        )
        rows = page.items
        for index in range(position.skip, len(rows)):
            ex = rows[index]
            read += 1
            if visible(ex, now):
                record = job_record(ex)
                if query.matches(record):
                    found.append((ex, record))
            full = limit is not None and len(found) >= limit
            if full or (budget is not None and read >= budget):
                if index + 1 < len(rows):
                    return Scan(found, Position(position.cursor, index + 1))
                return Scan(found, Position(page.next_cursor) if page.next_cursor else None)
        if page.next_cursor is None:
            return Scan(found, None)
        position = Position(page.next_cursor)
        if deadline is not None and time.monotonic() >= deadline:
            return Scan(found, position)


def count(service: ExecutionService, query: JobQuery) -> int:
    """How many jobs match; by two store counts when the store filter is the whole query."""
    if query.empty:
        return 0
    if not query.exact:
        return len(scan(service, query).jobs)
    flt = query.store_filter
    total = service.count(flt)
    ended = [s for s in (flt.statuses or tuple(Status)) if s in TERMINAL]
    if not ended:
        return total
    gone = replace(flt, statuses=tuple(ended), ended_before=hidden_before(service.clock.now()))
    return total - service.count(gone)


def visible_job(service: ExecutionService, uuid: str) -> Execution:
    try:
        ex = service.get(uuid)
    except ConveyorError as exc:
        if exc.code == "not_found":
            raise errors.job_not_found(uuid) from None
        raise
    if not visible(ex, service.clock.now()):
        raise errors.job_not_found(uuid)
    return ex


@router.get(JOBS_PATH, summary="Retrieve recent jobs (ONTAP)")
def list_jobs(request: Request) -> Response:
    def work() -> Response:
        authenticate(request, Role.VIEWER)
        params = Params.read(request, _LIST_CONTROLS, filters_allowed=True)
        c = params.controls
        query = build_query(params.filters)
        fields = parse_fields(c.get("fields"))
        max_records = parse_int(c.get("max_records"), "max_records", DEFAULT_MAX_RECORDS, 1)
        timeout = return_timeout(c)
        sort = parse_order_by(c.get("order_by"))
        start = Position.decode(c.get(CURSOR_PARAM))
        if not parse_bool(c.get("return_records"), "return_records", True):
            total = count(_service(request), query)
            return answer({"num_records": total, "_links": {"self": {"href": _self_href(request)}}})
        result = scan(
            _service(request),
            query,
            sort=sort,
            start=start,
            limit=max_records,
            budget=SCAN_BUDGET,
            deadline=time.monotonic() + timeout,
        )
        links: dict[str, Any] = {"self": {"href": _self_href(request)}}
        if result.next is not None:
            links["next"] = {"href": _next_href(request, result.next)}
        records = [project(record, fields) for _, record in result.jobs]
        return answer({"records": records, "num_records": len(records), "_links": links})

    return guarded(work)


@router.get(JOBS_PATH + "/{uuid}", summary="Retrieve a job (ONTAP)")
def get_job(uuid: str, request: Request) -> Response:
    def work() -> Response:
        authenticate(request, Role.VIEWER)
        params = Params.read(request, _GET_CONTROLS, filters_allowed=False)
        raw_fields = params.controls.get("fields")
        fields = parse_fields(raw_fields) if raw_fields is not None else None
        return_timeout(params.controls)
        ex = visible_job(_service(request), uuid)
        return answer(project(job_record(ex), fields))

    return guarded(work)


# --- actions -----------------------------------------------------------------------------


def apply_action(service: ExecutionService, ex: Execution, action: str) -> Execution:
    """ONTAP's job actions over the canonical ones, refusing what ONTAP refuses."""
    if ex.status in TERMINAL:
        raise errors.action_refused(ex.id, ex.status, action)
    if action == "cancel":
        return service.cancel(ex.id, "cancel")
    if action == "pause":
        if ex.status in CANCELLING_STATES:
            raise errors.action_refused(ex.id, ex.status, action)
        return service.pause(ex.id)
    if ex.status is not Status.PAUSED:
        raise errors.action_refused(ex.id, ex.status, action)
    return service.resume(ex.id)


def _action(params: Params, body: bytes) -> str:
    action = params.controls.get("action")
    if body.strip():
        try:
            data = json.loads(body)
        except ValueError:
            raise errors.bad_value("the request body is not valid JSON; send {} (or nothing)") from None
        if not isinstance(data, dict):
            raise errors.bad_value("the request body must be a JSON object; send {}")
        for key, value in data.items():
            if key != "action":
                message = f'Field "{key}" of a job cannot be modified; use action=pause, resume or cancel.'
                raise errors.OntapError(400, errors.UNSUPPORTED, message, key)
            action = action or str(value)
    if action is None:
        raise errors.bad_value("nothing to do: pass action=pause, action=resume or action=cancel", "action")
    if action not in ACTIONS:
        raise errors.bad_value(f'"{action}" is not a job action; use pause, resume or cancel.', "action")
    return action


def _patch_job(request: Request, uuid: str, body: bytes) -> Response:
    def work() -> Response:
        authenticate(request, Role.OPERATOR)
        params = Params.read(request, _PATCH_CONTROLS, filters_allowed=False)
        action = _action(params, body)
        service = _service(request)
        apply_action(service, visible_job(service, uuid), action)
        return answer({})

    return guarded(work)


def _patch_jobs(request: Request, body: bytes) -> Response:
    def work() -> Response:
        authenticate(request, Role.OPERATOR)
        params = Params.read(request, _BULK_PATCH_CONTROLS, filters_allowed=True)
        action = _action(params, body)
        keep_going = parse_bool(params.controls.get("continue_on_failure"), "continue_on_failure", False)
        query = build_query(params.filters)
        service = _service(request)
        jobs = [ex for ex, _ in scan(service, query).jobs]
        patched = 0
        failures: list[OntapError] = []
        for ex in jobs:
            try:
                apply_action(service, ex, action)
                patched += 1
            except (OntapError, ConveyorError) as exc:
                failure = exc if isinstance(exc, OntapError) else errors.from_conveyor(exc)
                failures.append(failure)
                if not keep_going:
                    break
        if failures:
            first = failures[0]
            summary = f"{len(failures)} of {len(jobs)} matching jobs refused to {action}"
            if not keep_going:
                summary = f"stopped after {patched} of {len(jobs)} matching jobs were patched"
            raise OntapError(first.status, first.code, f"{first.message} ({summary})", first.target)
        return answer({"num_records": patched})

    return guarded(work)


@router.patch(JOBS_PATH + "/{uuid}", summary="Pause, resume or cancel a job (ONTAP)")
async def patch_job(uuid: str, request: Request) -> Response:
    body = await request.body()
    return await run_in_threadpool(_patch_job, request, uuid, body)


@router.patch(JOBS_PATH, summary="Pause, resume or cancel every job a query matches (ONTAP)")
async def patch_jobs(request: Request) -> Response:
    body = await request.body()
    return await run_in_threadpool(_patch_jobs, request, body)


def _not_allowed(request: Request, allowed: str) -> Response:
    message = f"{request.url.path} does not accept {request.method}; it accepts {allowed}"
    err = OntapError(405, errors.UNSUPPORTED, message)
    response = error_answer(err)
    response.headers["Allow"] = allowed
    return response


@router.api_route(JOBS_PATH, methods=["POST", "PUT", "DELETE"], include_in_schema=False)
def jobs_other_methods(request: Request) -> Response:
    return _not_allowed(request, "GET, PATCH")


@router.api_route(JOBS_PATH + "/{uuid}", methods=["POST", "PUT", "DELETE"], include_in_schema=False)
def job_other_methods(uuid: str, request: Request) -> Response:
    return _not_allowed(request, "GET, PATCH")
