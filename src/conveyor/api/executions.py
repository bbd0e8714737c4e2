"""`/executions`: start, list, count, read, report, message and delete executions.

Thin on purpose: each handler parses its input, calls one ExecutionService use
case and serializes the answer, so the rules (validation, admission, the state
machine) stay in the core where every interface shares them. Handlers are plain
`def` because the service is synchronous; FastAPI runs them in its threadpool.
Actions on one execution (cancel, pause, ...) live in `actions.py`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from conveyor.api.auth import Operator, Principal, Viewer
from conveyor.api.deps import Service, json_answer
from conveyor.api.idempotency import Idempotent
from conveyor.api.query import CursorParam, Filters, Instant, LimitParam, parse_instant, parse_sort
from conveyor.api.schemas import (
    COMMON_ERRORS,
    CONFLICT,
    NOT_FOUND,
    BulkStartBody,
    CountOut,
    CountsOut,
    DeletedOut,
    Empty,
    ExecutionList,
    ExecutionOut,
    ExecutionPage,
    MessageBody,
    ReportBody,
    StartBody,
)
from conveyor.api.serialize import execution_doc, parse_include
from conveyor.core.errors import InvalidRequest
from conveyor.core.executions import StartRequest
from conveyor.core.model import ErrorInfo, ExecutionFilter, Status

router = APIRouter(tags=["executions"], responses=COMMON_ERRORS)

#: Both start routes: an unknown workflow or target, or a start admission refused.
STARTED_ERRORS: dict[int | str, dict[str, Any]] = {
    **NOT_FOUND,
    409: {"description": "existing_running_execution: admission refused the start"},
}
IncludeParam = Annotated[
    list[str] | None, Query(description="Only these fields of each execution (comma-separated); id always.")
]


def _start_request(body: StartBody, principal: Principal, key: str | None) -> StartRequest:
    return StartRequest(
        workflow=body.workflow,
        parameters=body.parameters,
        target=body.target,
        queue=body.queue,
        force=body.force,
        dry_run=body.dry_run,
        schedule=body.schedule,
        priority=body.priority,
        idempotency_key=key,
        allow_custom_parameters=body.allow_custom_parameters,
        created_by=principal.name,
    )


# Routes without a path parameter come first so `/executions/count` is never read as an id.


@router.post(
    "/executions",
    status_code=201,
    response_model=ExecutionOut,
    responses=STARTED_ERRORS,
    summary="Start an execution",
)
def start_execution(body: StartBody, service: Service, principal: Operator, idem: Idempotent) -> Response:
    req = _start_request(body, principal, idem.scoped_key)
    return idem.run(201, lambda: execution_doc(service.start(req)))


@router.post(
    "/executions:bulk",
    status_code=201,
    response_model=ExecutionList,
    responses=STARTED_ERRORS,
    summary="Start several executions, all or nothing (409 only with queue=false)",
)
def start_executions(
    body: BulkStartBody, service: Service, principal: Operator, idem: Idempotent
) -> Response:
    key = idem.scoped_key
    reqs = [
        _start_request(item, principal, f"{key}#{i}" if key is not None else None)
        for i, item in enumerate(body.executions)
    ]

    def produce() -> dict[str, Any]:
        started = service.start_many(reqs, refuse_blocked=not body.queue)
        return {"items": [execution_doc(ex) for ex in started]}

    return idem.run(201, produce)


@router.get("/executions", response_model=ExecutionPage, summary="List executions")
def list_executions(
    service: Service,
    _: Viewer,
    flt: Filters,
    sort: Annotated[
        list[str] | None, Query(description="Fields, comma-separated, - for descending: -created_at,workflow")
    ] = None,
    include: IncludeParam = None,
    limit: LimitParam = 100,
    cursor: CursorParam = None,
    with_total: Annotated[bool, Query(description="Also count every match (costs a query)")] = False,
) -> Response:
    fields = parse_include(include)
    page = service.list(flt, sort=parse_sort(sort), limit=limit, cursor=cursor or None)
    doc: dict[str, Any] = {
        "items": [execution_doc(ex, fields) for ex in page.items],
        "next_cursor": page.next_cursor,
    }
    if with_total:
        doc["total"] = service.count(flt)
    return json_answer(doc)


@router.get("/executions/count", response_model=CountOut, summary="Count executions")
def count_executions(service: Service, _: Viewer, flt: Filters) -> Response:
    return json_answer({"count": service.count(flt)})


@router.get(
    "/executions/counts",
    response_model=CountsOut,
    summary="Count executions by status, queue and workflow, in one call",
    description="Kept as executions change: a small read at any table size. "
    "With `target`, counted from those targets' executions.",
)
def count_executions_by_status(service: Service, _: Viewer, flt: Filters) -> Response:
    if flt != ExecutionFilter(workflows=flt.workflows, targets=flt.targets):
        raise InvalidRequest("counts take the workflow and target filters only; /executions/count takes all")
    counts = service.counts(workflows=flt.workflows, targets=flt.targets)

    def named(by: dict[Status, int]) -> dict[str, int]:
        return {str(status): n for status, n in by.items()}

    return json_answer({
        "total": counts.total,
        "by_status": named(counts.by_status),
        "by_queue": {queue: named(by) for queue, by in sorted(counts.by_queue.items())},
        "by_workflow": {name: named(by) for name, by in sorted(counts.by_workflow.items())},
    })  # fmt: skip


@router.delete(
    "/executions",
    response_model=DeletedOut,
    summary="Delete finished executions",
    description="Deletes terminal executions matching the filters: those that ended at or before "
    "`to_datetime`, or all but the newest `keep_last` (keep_last=0 deletes every match). "
    "One of the two is required, so a bare DELETE cannot wipe the history by accident.",
)
def delete_executions(
    service: Service,
    _: Operator,
    idem: Idempotent,
    flt: Filters,
    to_datetime: Instant = None,
    keep_last: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    until = parse_instant(to_datetime, "to_datetime")
    if until is None and keep_last is None:
        raise InvalidRequest(
            "pass to_datetime (delete what ended up to then) or keep_last (keep the newest N; 0 deletes all)",
            {"field": "to_datetime"},
        )
    return idem.run(
        200, lambda: {"deleted": service.delete_finished(flt, to_datetime=until, keep_last=keep_last)}
    )


@router.get("/executions/{execution_id}", response_model=ExecutionOut, responses=NOT_FOUND, summary="Get one")
def get_execution(execution_id: str, service: Service, _: Viewer, include: IncludeParam = None) -> Response:
    fields = parse_include(include)
    return json_answer(execution_doc(service.get(execution_id), fields))


@router.patch(
    "/executions/{execution_id}",
    response_model=ExecutionOut,
    responses={**NOT_FOUND, 409: {"description": "illegal_transition"}},
    summary="Report a status (external workers)",
)
def report_execution(
    execution_id: str, body: ReportBody, service: Service, _: Operator, idem: Idempotent
) -> Response:
    if isinstance(body.error, str):
        error: ErrorInfo | None = ErrorInfo("Error", body.error)
    elif body.error is not None:
        error = ErrorInfo(body.error.type, body.error.message, body.error.traceback)
    else:
        error = None
    return idem.run(
        200, lambda: execution_doc(service.report(execution_id, body.status, error=error, result=body.result))
    )


@router.post(
    "/executions/{execution_id}/messages",
    status_code=201,
    response_model=Empty,
    responses=NOT_FOUND,
    summary="Add a message to the execution's events",
)
def add_message(
    execution_id: str, body: MessageBody, service: Service, _: Operator, idem: Idempotent
) -> Response:
    def produce() -> dict[str, Any]:
        service.message(execution_id, body.message, level=body.level)
        return {}

    return idem.run(201, produce)


@router.delete(
    "/executions/{execution_id}",
    status_code=204,
    response_class=Response,
    responses={**NOT_FOUND, **CONFLICT},
    summary="Delete one execution (not while it is active)",
)
def delete_execution(execution_id: str, service: Service, _: Operator, idem: Idempotent) -> Response:
    return idem.run(204, lambda: service.delete(execution_id))
