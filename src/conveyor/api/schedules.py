"""`/schedules`: create, read, edit, enable, disable and delete schedules; stop and restore them all.

Thin like the execution routers: each handler reads its input, calls one
ScheduleService use case (the one `create_app` keeps on `app.state.schedules`)
and serializes the answer. Everything a schedule must be is checked by the
service before it is stored (trigger, workflow, parameters, policies), so a
refused call leaves nothing behind. Firing is the background loop's job, not
this module's.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from conveyor.api.auth import Operator, Principal, Viewer
from conveyor.api.deps import json_answer, patch_changes
from conveyor.api.idempotency import Idempotent
from conveyor.api.query import CursorParam, LimitParam, ListParam, csv, page_answer
from conveyor.api.schemas import (
    COMMON_ERRORS,
    MAX_SCHEDULE_IDS,
    CountOut,
    DeletedOut,
    ErrorEnvelope,
    ScheduleBody,
    ScheduleChanges,
    ScheduleOut,
    SchedulePage,
    TriggerIn,
)
from conveyor.api.serialize_schedules import schedule_doc
from conveyor.core.errors import InvalidRequest
from conveyor.core.schedules import ScheduleRequest, ScheduleService
from conveyor.core.triggers import Trigger, parse_trigger, parse_trigger_text

router = APIRouter(tags=["schedules"], responses=COMMON_ERRORS)

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorEnvelope, "description": "not_found: no schedule with this id"}
}
_REFUSED: dict[int | str, dict[str, Any]] = {
    400: {
        "model": ErrorEnvelope,
        "description": "invalid_trigger (the message says what is wrong), invalid_parameters or "
        "invalid_request; nothing is stored",
    },
    404: {"model": ErrorEnvelope, "description": "unknown_workflow (or not_found for an unknown schedule)"},
}
#: Fields whose value may not be null in a PATCH (all but `target`, where null unbinds the schedule).
_NULLABLE = frozenset({"target"})


def get_schedules(request: Request) -> ScheduleService:
    schedules: ScheduleService = request.app.state.schedules
    return schedules


Schedules = Annotated[ScheduleService, Depends(get_schedules)]


def parse_trigger_input(value: str | TriggerIn, timezone: str | None) -> Trigger:
    """A trigger as the API takes it: "kind:value" or {"kind", "value", "timezone"}.

    The top-level `timezone` applies to a string, and to an object that names no zone itself.
    Raises InvalidTrigger (400 `invalid_trigger`) saying what is wrong.
    """
    if isinstance(value, TriggerIn):
        zone = value.timezone if value.timezone is not None else timezone
        return parse_trigger(value.kind, value.value, timezone=zone)
    return parse_trigger_text(value, timezone=timezone)


def _ids(values: list[str] | None) -> list[str]:
    ids = list(dict.fromkeys(csv(values)))
    if len(ids) > MAX_SCHEDULE_IDS:
        raise InvalidRequest(f"at most {MAX_SCHEDULE_IDS} ids at once, not {len(ids)}", {"field": "ids"})
    return ids


# Routes without a path parameter come first, so `/schedules:...` is never read as an id.


@router.post(
    "/schedules",
    status_code=201,
    response_model=ScheduleOut,
    responses=_REFUSED,
    summary="Create a schedule",
    description="The caller becomes its owner. A trigger that cannot be read, an unknown workflow or "
    "parameters the workflow refuses are answered with an error and nothing is stored.",
)
def create_schedule(
    body: ScheduleBody, schedules: Schedules, principal: Operator, idem: Idempotent
) -> Response:
    def produce() -> dict[str, Any]:
        req = ScheduleRequest(
            workflow=body.workflow,
            trigger=parse_trigger_input(body.trigger, body.timezone),
            parameters=body.parameters,
            target=body.target,
            description=body.description,
            params=body.params,
            owner=principal.name,
            misfire=body.misfire,
            misfire_limit=body.misfire_limit,
            grace=body.grace,
            overlap=body.overlap,
            priority=body.priority,
            dry_run=body.dry_run,
            enabled=body.enabled,
        )
        return schedule_doc(schedules.create(req), schedules)

    return idem.run(201, produce)


@router.get("/schedules", response_model=SchedulePage, summary="List schedules, oldest first")
def list_schedules(
    schedules: Schedules,
    _: Viewer,
    owner: Annotated[str | None, Query(description="Only this owner's schedules.")] = None,
    target: Annotated[str | None, Query(description="Only schedules bound to this target.")] = None,
    ids: ListParam = None,
    limit: LimitParam = 100,
    cursor: CursorParam = None,
) -> Response:
    page = schedules.list(
        ids=_ids(ids), owner=owner or None, target=target or None, after=cursor or None, limit=limit + 1
    )
    return page_answer(page, limit, lambda s: schedule_doc(s, schedules))


@router.delete(
    "/schedules",
    response_model=DeletedOut,
    responses=_NOT_FOUND,
    summary="Delete several schedules",
    description="`ids` is required. One unknown id refuses the whole call (404) and deletes nothing.",
)
def delete_schedules(
    schedules: Schedules,
    _: Operator,
    idem: Idempotent,
    ids: Annotated[list[str] | None, Query(description="Comma-separated schedule ids, or repeat it.")] = None,
) -> Response:
    wanted = _ids(ids)
    if not wanted:
        raise InvalidRequest("pass the schedules to delete as ids=a,b", {"field": "ids"})
    return idem.run(200, lambda: {"deleted": schedules.delete(wanted)})


def _owner_of(principal: Principal) -> str:
    return principal.name


@router.post(
    "/schedules:unschedule-all",
    response_model=CountOut,
    summary="Stop every enabled schedule of the caller",
    description="Disables them and marks them suspended; `count` says how many. "
    "`/schedules:reschedule-all` enables exactly these again.",
)
def unschedule_all(schedules: Schedules, principal: Operator, idem: Idempotent) -> Response:
    return idem.run(200, lambda: {"count": schedules.unschedule_all(_owner_of(principal))})


@router.post(
    "/schedules:reschedule-all",
    response_model=CountOut,
    summary="Restore the caller's schedules that unschedule-all stopped",
    description="Missed fires are not made up: each counts its next fire from now.",
)
def reschedule_all(schedules: Schedules, principal: Operator, idem: Idempotent) -> Response:
    return idem.run(200, lambda: {"count": schedules.reschedule_all(_owner_of(principal))})


@router.get("/schedules/{schedule_id}", response_model=ScheduleOut, responses=_NOT_FOUND, summary="Get one")
def get_schedule(schedule_id: str, schedules: Schedules, _: Viewer) -> Response:
    return json_answer(schedule_doc(schedules.get(schedule_id), schedules))


def _changes(schedule_id: str, body: ScheduleChanges, schedules: ScheduleService) -> dict[str, Any]:
    given = body.model_fields_set
    changes = patch_changes(body, nullable=_NULLABLE | {"trigger", "timezone"})
    changes.pop("trigger", None)
    changes.pop("timezone", None)
    if body.trigger is not None:
        changes["trigger"] = parse_trigger_input(body.trigger, body.timezone)
    elif "trigger" in given:
        raise InvalidRequest("trigger cannot be null; leave it out to keep it", {"field": "trigger"})
    elif "timezone" in given:  # the current trigger, read in another zone
        current = schedules.get(schedule_id).trigger
        changes["trigger"] = parse_trigger(current.kind, current.value or None, timezone=body.timezone)
    if not changes:
        raise InvalidRequest("nothing to change: give at least one field of the schedule", {"field": None})
    return changes


@router.patch(
    "/schedules/{schedule_id}",
    response_model=ScheduleOut,
    responses=_REFUSED,
    summary="Change a schedule",
    description="Only the fields given change; the result is checked like a new schedule. A new trigger, "
    "or enabling it again, counts the next fire from now.",
)
def update_schedule(
    schedule_id: str, body: ScheduleChanges, schedules: Schedules, _: Operator, idem: Idempotent
) -> Response:
    def produce() -> dict[str, Any]:
        changed = schedules.update(schedule_id, _changes(schedule_id, body, schedules))
        return schedule_doc(changed, schedules)

    return idem.run(200, produce)


@router.delete(
    "/schedules/{schedule_id}",
    status_code=204,
    response_class=Response,
    responses=_NOT_FOUND,
    summary="Delete one schedule",
)
def delete_schedule(schedule_id: str, schedules: Schedules, _: Operator, idem: Idempotent) -> Response:
    def produce() -> None:
        schedules.delete([schedule_id])

    return idem.run(204, produce)


@router.post(
    "/schedules/{schedule_id}/enable",
    response_model=ScheduleOut,
    responses=_NOT_FOUND,
    summary="Enable",
    description="Its next fire counts from now; fires missed while it was disabled are not made up.",
)
def enable_schedule(schedule_id: str, schedules: Schedules, _: Operator, idem: Idempotent) -> Response:
    return idem.run(200, lambda: schedule_doc(schedules.set_enabled(schedule_id, True), schedules))


@router.post(
    "/schedules/{schedule_id}/disable", response_model=ScheduleOut, responses=_NOT_FOUND, summary="Disable"
)
def disable_schedule(schedule_id: str, schedules: Schedules, _: Operator, idem: Idempotent) -> Response:
    return idem.run(200, lambda: schedule_doc(schedules.set_enabled(schedule_id, False), schedules))
