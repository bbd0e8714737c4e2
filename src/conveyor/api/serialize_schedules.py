"""Schedules to the JSON document of docs/api.md ("Schedules").

Kept apart from `serialize.py` because a schedule document needs the
ScheduleService (its next fire times come from the trigger), while the other
documents are plain projections of a model.
"""

from __future__ import annotations

from typing import Any

from conveyor.api.serialize import iso
from conveyor.core.schedules import Schedule, ScheduleService
from conveyor.core.triggers import Trigger

#: How many upcoming fire times a document lists.
UPCOMING = 3


def trigger_doc(trigger: Trigger) -> dict[str, Any]:
    return {
        "kind": trigger.kind,
        "value": trigger.value,
        "timezone": trigger.timezone,
        "text": trigger.to_text(),
        "description": trigger.describe(),
    }


def schedule_doc(s: Schedule, schedules: ScheduleService) -> dict[str, Any]:
    """The schedule document, with its next (up to) three fire times."""
    return {
        "id": s.id,
        "workflow": s.workflow,
        "trigger": trigger_doc(s.trigger),
        "parameters": s.parameters,
        "target": s.target,
        "description": s.description,
        "params": s.params,
        "owner": s.owner,
        "enabled": s.enabled,
        "suspended": s.suspended,
        "misfire": s.misfire,
        "misfire_limit": s.misfire_limit,
        "grace": s.grace,
        "overlap": s.overlap,
        "priority": s.priority,
        "dry_run": s.dry_run,
        "next_fire_at": iso(s.next_fire_at),
        "next_fire_times": [iso(t) for t in schedules.upcoming(s, UPCOMING)],
        "last_fired_at": iso(s.last_fired_at),
        "last_execution_id": s.last_execution_id,
        "fire_count": s.fire_count,
        "waiting": s.waiting,
        "last_error": s.last_error,
        "created_at": iso(s.created_at),
        "updated_at": iso(s.updated_at),
    }
