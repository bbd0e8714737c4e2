"""`/api/v3.1/executions`: the routes `cloudify_rest_client.ExecutionsClient` calls.

Each route reads Cloudify's request, calls one core service and answers in
Cloudify's shape; the mapping of statuses is `statuses.TO_CLOUDIFY`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response

from conveyor.core.errors import Forbidden
from conveyor.core.executions import StartRequest
from conveyor.core.model import TERMINAL, ErrorInfo, Role
from conveyor.core.targets import Target
from conveyor.dialects.cloudify import statuses
from conveyor.dialects.cloudify.deps import (
    AppServices,
    Body,
    Operator,
    Services,
    Viewer,
    boolean,
    instant,
    integer,
    mapping,
    string,
)
from conveyor.dialects.cloudify.errors import (
    INVALID_STATUS_UPDATE,
    CloudifyError,
    CloudifyRoute,
    bad_parameters,
)
from conveyor.dialects.cloudify.query import execution_query, read_window, with_statuses
from conveyor.dialects.cloudify.restore import RestoreRequest, restore_execution
from conveyor.dialects.cloudify.should_start import should_start
from conveyor.dialects.cloudify.views import (
    BLUEPRINT_LABELS,
    EXECUTION_FIELDS,
    BlueprintOf,
    answer,
    execution_view,
    pagination,
    parse_include,
    project,
)

router = APIRouter(route_class=CloudifyRoute)

#: Fields only an admin may set, and only when restoring (force_status) but `created_by`.
RESTORE_FIELDS = ("id", "created_at", "started_at", "ended_at", "error")
ADMIN_FIELDS = ("force_status", "created_by", "is_system_workflow", *RESTORE_FIELDS)
#: action -> what it does, for the message of an unknown action.
ACTIONS = ("cancel", "force-cancel", "kill", "resume", "force-resume", "requeue")
CANCEL_MODES = {"cancel": "cancel", "force-cancel": "force", "kill": "kill"}
#: DELETE /executions takes these in its body (or, for a hand-written call, in the query).
BULK_DELETE_FIELDS = ("to_datetime", "keep_last")


def blueprints(svc: Services) -> BlueprintOf:
    """`blueprint_id` from a deployment's (target's) label, the targets read once per request."""
    known: dict[str, Target] | None = None

    def blueprint_of(target: str) -> str | None:
        nonlocal known
        if known is None:
            known = {t.name: t for t in svc.targets.list()}
        found = known.get(target)
        if found is None:
            return None
        return next((found.labels[k] for k in BLUEPRINT_LABELS if found.labels.get(k)), None)

    return blueprint_of


def _view(svc: Services, include: tuple[str, ...] | None = None) -> Callable[..., dict[str, Any]]:
    blueprint_of = blueprints(svc)
    return lambda ex: project(execution_view(ex, blueprint_of), include)


def _include(request: Request) -> tuple[str, ...] | None:
    return parse_include(request.query_params.getlist("_include"), EXECUTION_FIELDS)


@router.get("/executions")
def list_executions(request: Request, svc: AppServices, _: Viewer) -> Response:
    q = execution_query(request.query_params.multi_items())
    include = parse_include(q.include, EXECUTION_FIELDS)
    total = 0 if q.nothing else svc.executions.count(q.flt)
    items = [] if q.nothing or total == 0 else read_window(svc.executions, q.flt, q.sort, q.window)
    view = _view(svc, include)
    size = len(items) if q.window.every else q.window.size
    return answer({"items": [view(e) for e in items], "metadata": pagination(total, size, q.window.offset)})


@router.get("/executions/{execution_id}/should-start")
def execution_should_start(execution_id: str, svc: AppServices, _: Viewer) -> Response:
    return answer(should_start(svc, execution_id))


@router.get("/executions/{execution_id}")
def get_execution(execution_id: str, request: Request, svc: AppServices, _: Viewer) -> Response:
    return answer(_view(svc, _include(request))(svc.executions.get(execution_id)))


@router.post("/executions", status_code=201)
def start_execution(body: Body, svc: AppServices, caller: Operator) -> Response:
    workflow = string(body.get("workflow_id"), "workflow_id", required=True)
    assert workflow is not None
    target = string(body.get("deployment_id"), "deployment_id") or None
    parameters = mapping(body.get("parameters"), "parameters")
    allow_custom = boolean(body.get("allow_custom_parameters"), "allow_custom_parameters")
    dry_run = boolean(body.get("dry_run"), "dry_run")
    force_status = string(body.get("force_status"), "force_status")
    created_by = string(body.get("created_by"), "created_by")
    scheduled = instant(body.get("scheduled_time"), "scheduled_time", naive_is_utc=False)
    admin_fields = [f for f in ADMIN_FIELDS if body.get(f) is not None]
    if admin_fields and not caller.may(Role.ADMIN):
        raise Forbidden(f"only an admin may set {', '.join(admin_fields)} when creating an execution")
    if force_status is not None:
        if scheduled is not None:
            raise bad_parameters("force_status cannot be used together with scheduled_time")
        ex = restore_execution(
            svc,
            RestoreRequest(
                workflow=workflow, force_status=force_status, parameters=parameters, target=target,
                dry_run=dry_run, allow_custom_parameters=allow_custom,
                execution_id=string(body.get("id"), "id"), created_by=created_by or caller.name,
                created_at=instant(body.get("created_at"), "created_at"),
                started_at=instant(body.get("started_at"), "started_at"),
                ended_at=instant(body.get("ended_at"), "ended_at"), error=string(body.get("error"), "error"),
            ),
        )  # fmt: skip
        return answer(_view(svc)(ex), 201)
    restore_only = [f for f in RESTORE_FIELDS if body.get(f) is not None]
    if restore_only:
        raise bad_parameters(
            f"{', '.join(restore_only)} can only be set together with force_status (a restore)"
        )
    if scheduled is not None and scheduled <= svc.executions.clock.now():
        raise bad_parameters(f"scheduled_time {body.get('scheduled_time')} is not in the future")
    ex = svc.executions.start(
        StartRequest(
            workflow, parameters, target=target,
            queue=boolean(body.get("queue"), "queue"), force=boolean(body.get("force"), "force"),
            dry_run=dry_run, schedule=scheduled, allow_custom_parameters=allow_custom,
            created_by=created_by or caller.name,
        )
    )  # fmt: skip
    return answer(_view(svc)(ex), 201)


@router.patch("/executions/{execution_id}")
def update_execution(execution_id: str, body: Body, svc: AppServices, _: Operator) -> Response:
    new = string(body.get("status"), "status", required=True)
    if new not in statuses.CLOUDIFY_STATUSES:
        raise bad_parameters(f"status must be one of {', '.join(statuses.CLOUDIFY_STATUSES)}, not {new!r}")
    error = string(body.get("error"), "error")
    ex = svc.executions.get(execution_id)
    current = statuses.to_cloudify(ex.status)
    if statuses.update_refused(current, new, ex.workflow):
        raise CloudifyError(
            400,
            INVALID_STATUS_UPDATE,
            f"Can't update the status of execution {execution_id} from {current} to {new}",
        )
    if current != new:
        info = ErrorInfo("Error", error) if error else None
        ex = svc.executions.report(execution_id, statuses.FROM_CLOUDIFY[new], error=info)
    return answer(_view(svc)(ex))


@router.post("/executions/{execution_id}")
def execution_action(execution_id: str, body: Body, svc: AppServices, _: Operator) -> Response:
    action = body.get("action")
    service = svc.executions
    if action in CANCEL_MODES:
        ex = service.cancel(execution_id, CANCEL_MODES[action])
    elif action in ("resume", "force-resume"):
        ex = service.resume(execution_id, force=action == "force-resume")
    elif action == "requeue":
        ex = service.requeue(execution_id)
    else:
        raise bad_parameters(f"Unknown action {action!r}: valid actions are {', '.join(ACTIONS)}")
    return answer(_view(svc)(ex))


@router.delete("/executions")
def delete_executions(request: Request, body: Body, svc: AppServices, _: Operator) -> Response:
    params = request.query_params.multi_items()
    given = {**{k: v for k, v in params if k in BULK_DELETE_FIELDS}, **body}
    q = execution_query([(k, v) for k, v in params if k not in BULK_DELETE_FIELDS], system_default=False)
    to_datetime = instant(given.get("to_datetime"), "to_datetime")
    keep_last = (
        None if given.get("keep_last") is None else integer(given["keep_last"], "keep_last", minimum=1)
    )
    if to_datetime is not None and keep_last is not None:
        raise bad_parameters("to_datetime and keep_last are mutually exclusive: send one of them")
    asked = [v for k, v in params if k == "status"]
    unfinished = sorted(set(asked) - statuses.END_STATES)
    if unfinished:
        raise bad_parameters(
            f"only ended executions ({', '.join(sorted(statuses.END_STATES))}) are deleted; "
            f"cannot delete by status {', '.join(unfinished)}"
        )
    count = 0
    if not q.nothing:
        flt = with_statuses(q.flt, sorted(TERMINAL))
        count = svc.executions.delete_finished(flt, to_datetime=to_datetime, keep_last=keep_last)
    return answer({"items": [{"count": count}], "metadata": pagination(1, 1, 0)})
