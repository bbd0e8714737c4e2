"""`/execution-groups`: one workflow on every target of a target group, `concurrency` at a time.

Each handler calls one ExecutionGroupService use case (`app.state.groups`).
The group document carries what its members say (status, counts, ids), so it
is built from the group and a read of its members; the members themselves are
executions, listed by `GET /executions?group_id=...`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from conveyor.api.auth import Operator, Viewer
from conveyor.api.deps import json_answer
from conveyor.api.idempotency import Idempotent
from conveyor.api.query import CursorParam, LimitParam, ListParam, csv, page_answer
from conveyor.api.schemas import COMMON_ERRORS, NOT_FOUND
from conveyor.api.schemas_groups import (
    ConcurrencyBody,
    ExecutionGroupDump,
    ExecutionGroupOut,
    ExecutionGroupPage,
    GroupCancelBody,
    GroupStartBody,
    SinkGroupsBody,
)
from conveyor.api.serialize import iso
from conveyor.api.serialize_groups import execution_group_doc
from conveyor.core.errors import InvalidRequest
from conveyor.core.groups import ExecutionGroup, ExecutionGroupService

router = APIRouter(tags=["execution groups"], responses=COMMON_ERRORS)


def get_groups(request: Request) -> ExecutionGroupService:
    groups: ExecutionGroupService = request.app.state.groups
    return groups


Groups = Annotated[ExecutionGroupService, Depends(get_groups)]


def _doc(groups: ExecutionGroupService, group: ExecutionGroup) -> dict[str, Any]:
    return execution_group_doc(group, groups.members(group.id))


@router.post(
    "/execution-groups",
    status_code=201,
    response_model=ExecutionGroupOut,
    responses={
        **NOT_FOUND,
        400: {"description": "invalid_request (e.g. parameters for a target outside the group)"},
    },
    summary="Start an execution group",
    description="One execution per target of `target_group`, in target-name order; at most `concurrency` "
    "run at once and the rest wait `queued`. Each member's parameters are `default_parameters` with "
    "`parameters[target]` merged over them, checked against the workflow's model before anything is "
    "stored. The per-target rules still hold inside the group (unless `force`). 404 `not_found` for an "
    "unknown target group, `unknown_workflow` for an unknown workflow.",
)
def start_group(body: GroupStartBody, groups: Groups, principal: Operator, idem: Idempotent) -> Response:
    def produce() -> dict[str, Any]:
        group = groups.start(
            body.target_group,
            body.workflow,
            default_parameters=body.default_parameters,
            parameters=body.parameters,
            concurrency=body.concurrency,
            force=body.force,
            created_by=principal.name,
        )
        return _doc(groups, group)

    return idem.run(201, produce)


@router.get(
    "/execution-groups", response_model=ExecutionGroupPage, summary="List execution groups, oldest first"
)
def list_groups(
    groups: Groups,
    _: Viewer,
    workflow: ListParam = None,
    target_group: ListParam = None,
    limit: LimitParam = 100,
    cursor: CursorParam = None,
) -> Response:
    workflows, sources = set(csv(workflow)), set(csv(target_group))
    found = [
        g
        for g in groups.list()
        if (not workflows or g.workflow in workflows) and (not sources or g.target_group in sources)
    ]
    return page_answer(found, limit, lambda g: _doc(groups, g), cursor=cursor)


@router.get(
    "/execution-groups:dump",
    response_model=ExecutionGroupDump,
    summary="Every group's attributes, for snapshots",
    description='`{"items": [...]}`: each group\'s attributes with its `execution_ids` and `status`, '
    "oldest first; `ids` selects some groups (unknown ids are left out).",
)
def dump_groups(groups: Groups, _: Viewer, ids: ListParam = None) -> Response:
    items = [{**d, "created_at": iso(datetime.fromisoformat(d["created_at"]))} for d in groups.dump(csv(ids))]
    return json_answer({"items": items})


@router.get(
    "/execution-groups/{group_id}", response_model=ExecutionGroupOut, responses=NOT_FOUND, summary="Get one"
)
def get_group(group_id: str, groups: Groups, _: Viewer) -> Response:
    return json_answer(_doc(groups, groups.get(group_id)))


@router.post(
    "/execution-groups/{group_id}/cancel",
    response_model=ExecutionGroupOut,
    responses=NOT_FOUND,
    summary="Cancel every member that has not ended",
    description="Waiting members (queued, ...) are cancelled at once; running ones as asked: at their next "
    "checkpoint, now with `force`, or by stopping their process with `kill`. Ended members stay as "
    "they are. Answers the group as it is afterwards.",
)
def cancel_group(
    group_id: str,
    groups: Groups,
    _: Operator,
    idem: Idempotent,
    body: GroupCancelBody | None = None,
) -> Response:
    force = body.force if body is not None else False
    kill = body.kill if body is not None else False
    if force and kill:
        raise InvalidRequest(
            "choose force or kill, not both: kill already implies a forced stop", {"field": "kill"}
        )

    def produce() -> dict[str, Any]:
        groups.cancel(group_id, force=force, kill=kill)
        return _doc(groups, groups.get(group_id))

    return idem.run(200, produce)


@router.patch(
    "/execution-groups/{group_id}",
    response_model=ExecutionGroupOut,
    responses=NOT_FOUND,
    summary="Change the concurrency (same as POST .../concurrency)",
)
@router.post(
    "/execution-groups/{group_id}/concurrency",
    response_model=ExecutionGroupOut,
    responses=NOT_FOUND,
    summary="Change how many members run at once",
    description="Queued members are admitted against the new value at once; a lower value lets running "
    "members finish and admits no more until fewer run.",
)
def set_concurrency(
    group_id: str, body: ConcurrencyBody, groups: Groups, _: Operator, idem: Idempotent
) -> Response:
    return idem.run(200, lambda: _doc(groups, groups.set_concurrency(group_id, body.concurrency)))


@router.post(
    "/execution-groups/{group_id}/target-groups",
    response_model=ExecutionGroupOut,
    responses=NOT_FOUND,
    summary="Collect succeeded and failed targets in target groups",
    description="The target of each member that succeeds joins `success_group`, of each that fails "
    "`failed_group` (members that already ended count too); cancelled members join neither. Both groups "
    "must exist (404). A field left out or null keeps the current setting.",
)
def set_target_groups(
    group_id: str, body: SinkGroupsBody, groups: Groups, _: Operator, idem: Idempotent
) -> Response:
    if body.success_group is None and body.failed_group is None:
        raise InvalidRequest("give success_group and/or failed_group", {"field": "success_group"})

    def produce() -> dict[str, Any]:
        changed = groups.set_target_group(
            group_id, success_group=body.success_group, failed_group=body.failed_group
        )
        return _doc(groups, changed)

    return idem.run(200, produce)
