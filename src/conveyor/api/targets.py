"""`/targets` and `/target-groups`: what executions act on, and named sets of them.

Thin like the other routers: each handler reads its input, calls one
TargetService use case (the one `create_app` keeps on `app.state.targets`) and
serializes the answer. Names may contain `/`, so the routes take the rest of
the path as the name (`{name:path}`); the member routes of a target group are
declared before the plain ones so `/target-groups/web/members` is never read
as a group called `web/members`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from conveyor.api.auth import Operator, Viewer
from conveyor.api.deps import json_answer, patch_changes
from conveyor.api.idempotency import Idempotent
from conveyor.api.query import CursorParam, LimitParam, csv, page_answer
from conveyor.api.schemas import COMMON_ERRORS, CONFLICT, NOT_FOUND
from conveyor.api.schemas_groups import (
    MembersBody,
    TargetBody,
    TargetChanges,
    TargetGroupBody,
    TargetGroupOut,
    TargetGroupPage,
    TargetOut,
    TargetPage,
    check_labels,
)
from conveyor.api.serialize_groups import target_doc, target_group_doc
from conveyor.core.errors import InvalidRequest, NotFound
from conveyor.core.targets import TargetService

router = APIRouter(tags=["targets"], responses=COMMON_ERRORS)

LabelParam = Annotated[
    list[str] | None,
    Query(
        description="key:value (or key alone, or key:* for any value); repeat it: every one must match.",
    ),
]


def get_targets(request: Request) -> TargetService:
    targets: TargetService = request.app.state.targets
    return targets


Targets = Annotated[TargetService, Depends(get_targets)]


def parse_labels(values: Sequence[str] | None) -> dict[str, str]:
    """['role:web', 'zone'] -> {'role': 'web', 'zone': '*'}; a key asked with two values is refused."""
    wanted: dict[str, str] = {}
    for item in values or ():
        key, _, value = item.strip().partition(":")
        key, value = key.strip(), value.strip() or "*"
        if key in wanted and wanted[key] != value:
            raise InvalidRequest(
                f"label {key!r} is asked for twice ({wanted[key]!r} and {value!r}); no target has both",
                {"field": "label"},
            )
        wanted[key] = value
    try:
        check_labels(wanted, filter_=True)
    except ValueError as exc:
        raise InvalidRequest(str(exc), {"field": "label"}) from None
    return wanted


# --- targets ------------------------------------------------------------------------------


@router.post(
    "/targets",
    status_code=201,
    response_model=TargetOut,
    responses=CONFLICT,
    summary="Create a target",
    description="409 `conflict` when a target of that name exists.",
)
def create_target(body: TargetBody, targets: Targets, _: Operator, idem: Idempotent) -> Response:
    return idem.run(
        201,
        lambda: target_doc(targets.create(body.name, max_concurrent=body.max_concurrent, labels=body.labels)),
    )


@router.get("/targets", response_model=TargetPage, summary="List targets, by name")
def list_targets(
    targets: Targets,
    _: Viewer,
    label: LabelParam = None,
    limit: LimitParam = 100,
    cursor: CursorParam = None,
) -> Response:
    return page_answer(targets.list(labels=parse_labels(label)), limit, target_doc, key="name", cursor=cursor)


@router.get("/targets/{name:path}", response_model=TargetOut, responses=NOT_FOUND, summary="Get one")
def get_target(name: str, targets: Targets, _: Viewer) -> Response:
    return json_answer(target_doc(targets.get(name)))


@router.patch(
    "/targets/{name:path}",
    response_model=TargetOut,
    responses=NOT_FOUND,
    summary="Change max_concurrent and/or labels",
    description="A higher `max_concurrent` lets queued executions on the target start at once. "
    "`labels` replaces every label.",
)
def update_target(
    name: str, body: TargetChanges, targets: Targets, _: Operator, idem: Idempotent
) -> Response:
    if not patch_changes(body):
        raise InvalidRequest("nothing to change: give max_concurrent and/or labels", {"field": None})
    return idem.run(
        200,
        lambda: target_doc(targets.update(name, max_concurrent=body.max_concurrent, labels=body.labels)),
    )


@router.delete(
    "/targets/{name:path}",
    status_code=204,
    response_class=Response,
    responses={**NOT_FOUND, **CONFLICT},
    summary="Delete a target and its schedules",
    description="409 `conflict` while executions on it are active, unless `force=true`. The schedules "
    "bound to it are deleted with it, and it leaves every target group.",
)
def delete_target(
    name: str,
    targets: Targets,
    _: Operator,
    idem: Idempotent,
    force: Annotated[bool, Query(description="Delete even while executions on it are active.")] = False,
) -> Response:
    return idem.run(204, lambda: targets.delete(name, force=force))


# --- target groups ------------------------------------------------------------------------


@router.post(
    "/target-groups",
    status_code=201,
    response_model=TargetGroupOut,
    responses={**NOT_FOUND, **CONFLICT},
    summary="Create a target group",
    description="Members by name (each must exist: 404 otherwise) and/or every target matching `labels` "
    "now. Membership is a list: targets labelled later do not join by themselves.",
)
def create_target_group(body: TargetGroupBody, targets: Targets, _: Operator, idem: Idempotent) -> Response:
    def produce() -> dict[str, Any]:
        # Check the members before creating: TargetService.create_group stores the group first and
        # would leave it behind, empty, when a member does not exist.
        known = {t.name for t in targets.list()}
        unknown = [n for n in dict.fromkeys(body.members) if n not in known]
        if unknown:
            raise NotFound("target", ", ".join(unknown))
        group = targets.create_group(
            body.name, description=body.description, members=body.members, labels=body.labels or None
        )
        return target_group_doc(group)

    return idem.run(201, produce)


@router.get("/target-groups", response_model=TargetGroupPage, summary="List target groups, by name")
def list_target_groups(
    targets: Targets, _: Viewer, limit: LimitParam = 100, cursor: CursorParam = None
) -> Response:
    groups = targets.list_groups()
    return page_answer(groups, limit, lambda g: target_group_doc(g, members=False), key="name", cursor=cursor)


def _members(body: MembersBody | None, target: list[str] | None, label: list[str] | None) -> MembersBody:
    names = [*(body.targets if body else ()), *csv(target)]
    labels = {**(body.labels if body else {}), **parse_labels(label)}
    if not names and not labels:
        raise InvalidRequest(
            "name the targets (targets: [...]) and/or a label filter (labels: {...})", {"field": "targets"}
        )
    return MembersBody(targets=names, labels=labels)


@router.post(
    "/target-groups/{name:path}/members",
    response_model=TargetGroupOut,
    responses=NOT_FOUND,
    summary="Add targets to a group",
    description="By name and/or every target matching `labels` now; targets already in it stay once.",
)
def add_members(name: str, body: MembersBody, targets: Targets, _: Operator, idem: Idempotent) -> Response:
    wanted = _members(body, None, None)
    return idem.run(
        200,
        lambda: target_group_doc(targets.add_members(name, wanted.targets, labels=wanted.labels or None)),
    )


@router.delete(
    "/target-groups/{name:path}/members",
    response_model=TargetGroupOut,
    responses=NOT_FOUND,
    summary="Remove targets from a group",
    description="The targets as a body `{targets, labels}` or in the query (`target=a,b`, `label=k:v`); "
    "names that are not members are ignored. The targets themselves stay.",
)
def remove_members(
    name: str,
    targets: Targets,
    _: Operator,
    idem: Idempotent,
    body: MembersBody | None = None,
    target: Annotated[
        list[str] | None, Query(description="Target names, comma-separated or repeated.")
    ] = None,
    label: LabelParam = None,
) -> Response:
    wanted = _members(body, target, label)
    return idem.run(
        200,
        lambda: target_group_doc(targets.remove_members(name, wanted.targets, labels=wanted.labels or None)),
    )


@router.get(
    "/target-groups/{name:path}", response_model=TargetGroupOut, responses=NOT_FOUND, summary="Get one"
)
# Declared first (decorators apply bottom-up) so `{name:path}` above never swallows `/members`.
@router.get(
    "/target-groups/{name:path}/members",
    response_model=TargetGroupOut,
    responses=NOT_FOUND,
    summary="Get a group with its members (same as GET /target-groups/{name})",
)
def get_target_group(name: str, targets: Targets, _: Viewer) -> Response:
    return json_answer(target_group_doc(targets.get_group(name)))


@router.delete(
    "/target-groups/{name:path}",
    status_code=204,
    response_class=Response,
    responses=NOT_FOUND,
    summary="Delete a target group (its targets stay)",
)
def delete_target_group(name: str, targets: Targets, _: Operator, idem: Idempotent) -> Response:
    return idem.run(204, lambda: targets.delete_group(name))
