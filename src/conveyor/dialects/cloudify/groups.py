"""`/api/v3.1/execution-groups`: the routes `cloudify_rest_client.ExecutionGroupsClient` calls.

A deployment group is a target group, a deployment a target; the group runs
through `core.groups.ExecutionGroupService`, whose admission rule 3 keeps at
most `concurrency` members active.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from conveyor.core.errors import Forbidden, IllegalTransition
from conveyor.core.groups import MAX_CONCURRENCY, ExecutionGroup, group_status
from conveyor.core.model import JSON, Role, Status
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
from conveyor.dialects.cloudify.errors import CloudifyRoute, bad_parameters
from conveyor.dialects.cloudify.query import in_memory
from conveyor.dialects.cloudify.restore import GroupRestoreRequest, restore_group
from conveyor.dialects.cloudify.views import (
    GROUP_DATA_FIELDS,
    GROUP_FIELDS,
    answer,
    group_view,
    pagination,
    parse_include,
    project,
    timestamp,
)

router = APIRouter(route_class=CloudifyRoute)

ACTIONS = ("cancel", "force-cancel", "kill", "resume", "force-resume")
#: Members a group resume continues (Cloudify: failed and cancelled; Conveyor's paused shows as cancelled).
RESUMABLE = (Status.FAILED, Status.CANCELLED, Status.PAUSED)
#: Fields a group list filters and sorts on.
LIST_FIELDS: dict[str, Any] = {
    "id": lambda g: g.id,
    "workflow_id": lambda g: g.workflow,
    "deployment_group_id": lambda g: g.target_group,
    "created_by": lambda g: g.created_by,
    "created_at": lambda g: timestamp(g.created_at),
    "concurrency": lambda g: g.concurrency,
}


def _doc(svc: Services, group: ExecutionGroup, with_data: bool = True) -> dict[str, Any]:
    if not with_data:
        return group_view(group, None, None)
    members = svc.groups.members(group.id)
    return group_view(group, members, group_status(m.status for m in members))


def _concurrency(value: Any) -> int:
    n = integer(value, "concurrency")
    if n == 0:
        raise bad_parameters(
            "concurrency 0 (a paused group) is not supported: Conveyor runs 1 to "
            f"{MAX_CONCURRENCY} members at a time"
        )
    return n


def _per_target(value: Any) -> dict[str, JSON]:
    per = mapping(value, "parameters")
    for target, params in per.items():
        mapping(params, f"parameters[{target!r}]")
    return {t: dict(p or {}) for t, p in per.items()}


@router.get("/execution-groups")
def list_groups(request: Request, svc: AppServices, _: Viewer) -> Response:
    params = request.query_params.multi_items()
    include = parse_include(request.query_params.getlist("_include"), GROUP_FIELDS)
    get_data = boolean(request.query_params.get("_get_data"), "_get_data")
    with_data = get_data or bool(include and GROUP_DATA_FIELDS & set(include))
    page, total, win = in_memory(svc.groups.list(), params, LIST_FIELDS, "created_at")
    docs = [project(_doc(svc, g, with_data), include) for g in page]
    size = len(page) if win.every else win.size
    return answer({"items": docs, "metadata": pagination(total, size, win.offset)})


@router.get("/execution-groups/{group_id}")
def get_group(group_id: str, request: Request, svc: AppServices, _: Viewer) -> Response:
    include = parse_include(request.query_params.getlist("_include"), GROUP_FIELDS)
    return answer(project(_doc(svc, svc.groups.get(group_id)), include))


@router.post("/execution-groups")
def start_group(body: Body, svc: AppServices, caller: Operator) -> Response:
    target_group = string(body.get("deployment_group_id"), "deployment_group_id", required=True)
    workflow = string(body.get("workflow_id"), "workflow_id", required=True)
    assert target_group is not None and workflow is not None
    concurrency = _concurrency(body.get("concurrency", 5))
    force = boolean(body.get("force"), "force")
    defaults = mapping(body.get("default_parameters"), "default_parameters")
    per_target = _per_target(body.get("parameters"))
    if "associated_executions" in body:  # create: a restore, nothing new runs
        if not caller.may(Role.ADMIN):
            raise Forbidden("only an admin may create an execution group from existing executions")
        ids = body.get("associated_executions")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise bad_parameters("associated_executions must be a list of execution ids")
        group = restore_group(
            svc,
            GroupRestoreRequest(
                target_group=target_group, workflow=workflow, execution_ids=tuple(ids),
                group_id=string(body.get("id"), "id"), concurrency=concurrency, force=force,
                default_parameters=defaults, parameters=per_target,
                created_by=string(body.get("created_by"), "created_by") or caller.name,
                created_at=instant(body.get("created_at"), "created_at"),
            ),
        )  # fmt: skip
        return answer(_doc(svc, group))
    group = svc.groups.start(
        target_group, workflow, default_parameters=defaults, parameters=per_target,
        concurrency=concurrency, force=force, created_by=caller.name,
    )  # fmt: skip
    return answer(_doc(svc, group))


@router.post("/execution-groups/{group_id}")
def group_action(group_id: str, body: Body, svc: AppServices, _: Operator) -> Response:
    action = body.get("action")
    if action in ("cancel", "force-cancel", "kill"):
        svc.groups.cancel(group_id, force=action == "force-cancel", kill=action == "kill")
    elif action in ("resume", "force-resume"):
        svc.groups.get(group_id)
        for member in svc.groups.members(group_id):
            if member.status in RESUMABLE:
                try:
                    svc.executions.resume(member.id, force=action == "force-resume")
                except IllegalTransition:  # it moved on meanwhile
                    continue
    else:
        raise bad_parameters(f"Unknown action {action!r}: valid actions are {', '.join(ACTIONS)}")
    return answer(_doc(svc, svc.groups.get(group_id)))


@router.patch("/execution-groups/{group_id}")
def update_group(group_id: str, body: Body, svc: AppServices, _: Operator) -> Response:
    """`concurrency`, and/or `success_group_id` / `failure_group_id` (null leaves one as it is)."""
    known = {"concurrency", "success_group_id", "failure_group_id"}
    unknown = sorted(set(body) - known)
    if unknown or not body:
        raise bad_parameters(f"send one or more of {', '.join(sorted(known))}" + (
            f"; unknown: {', '.join(unknown)}" if unknown else ""
        ))  # fmt: skip
    svc.groups.get(group_id)
    if body.get("concurrency") is not None:
        svc.groups.set_concurrency(group_id, _concurrency(body["concurrency"]))
    success = string(body.get("success_group_id"), "success_group_id")
    failure = string(body.get("failure_group_id"), "failure_group_id")
    if success is not None or failure is not None:
        svc.groups.set_target_group(group_id, success_group=success, failed_group=failure)
    return answer(_doc(svc, svc.groups.get(group_id)))
