"""Request bodies and documented answers for targets, target groups and execution groups.

Kept apart from `schemas.py` like the routers they serve (`targets.py`, `groups.py`).
Names and limits that the core checks (`core.targets.check_name`, concurrency and
max_concurrent ranges) are left to the core, so one message says what is wrong
whatever interface the call came through; labels are checked here because only the
API spells them (`label=key:value`).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, StrictInt, field_validator

from conveyor.api.schemas import _Body
from conveyor.core.groups import MAX_CONCURRENCY

MAX_LABELS = 50
MAX_MEMBERS = 10_000
LABEL_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$")
MAX_LABEL_VALUE = 200

Labels = dict[str, str]


def check_labels(labels: Labels | None, *, filter_: bool = False) -> Labels | None:
    """Keys: 1-100 letters, digits and . _ / - (no `:`, which separates key and value in a filter)."""
    if labels is None:
        return None
    if len(labels) > MAX_LABELS:
        raise ValueError(f"at most {MAX_LABELS} labels")
    for key, value in labels.items():
        if not LABEL_KEY.match(key):
            raise ValueError(
                f"label key {key!r} is not valid: use 1-100 letters, digits and . _ / -, "
                "starting with a letter or digit"
            )
        if not isinstance(value, str) or len(value) > MAX_LABEL_VALUE:
            raise ValueError(f"label {key!r}: the value must be text of at most {MAX_LABEL_VALUE} characters")
        if value == "*" and not filter_:
            raise ValueError(f"label {key!r}: '*' is kept for filters (any value); choose another value")
    return labels


# --- targets ------------------------------------------------------------------------------


class TargetBody(_Body):
    """Create a target."""

    name: str = Field(min_length=1, max_length=200, description="Letters, digits and . _ : @ / -.")
    max_concurrent: StrictInt = Field(
        default=1, description="How many non-system executions may run on it at once (1-10000)."
    )
    labels: Labels = Field(default_factory=dict, description='e.g. {"role": "web", "zone": "a"}.')

    @field_validator("labels")
    @classmethod
    def _check_labels(cls, value: Labels | None) -> Labels | None:
        return check_labels(value)


class TargetChanges(_Body):
    """Change a target: only the fields given change; `labels` replaces them all."""

    max_concurrent: StrictInt | None = None
    labels: Labels | None = None

    @field_validator("labels")
    @classmethod
    def _check_labels(cls, value: Labels | None) -> Labels | None:
        return check_labels(value)


class TargetOut(BaseModel):
    name: str
    max_concurrent: int
    labels: Labels
    created_at: datetime


class TargetPage(BaseModel):
    items: list[TargetOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last one.")


# --- target groups ------------------------------------------------------------------------


class TargetGroupBody(_Body):
    """Create a target group, with members by name and/or by label filter (resolved now)."""

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=10_000)
    members: list[str] = Field(default_factory=list, max_length=MAX_MEMBERS, description="Target names.")
    labels: Labels = Field(
        default_factory=dict,
        description="Also every target carrying all these labels now ('*' matches any value).",
    )

    @field_validator("labels")
    @classmethod
    def _check_labels(cls, value: Labels | None) -> Labels | None:
        return check_labels(value, filter_=True)


class MembersBody(_Body):
    """Targets to add or remove: by name, and/or every target matching a label filter."""

    targets: list[str] = Field(default_factory=list, max_length=MAX_MEMBERS)
    labels: Labels = Field(default_factory=dict, description="'*' matches any value.")

    @field_validator("labels")
    @classmethod
    def _check_labels(cls, value: Labels | None) -> Labels | None:
        return check_labels(value, filter_=True)


class TargetGroupOut(BaseModel):
    """A target group; `members` (sorted) only in the answers about one group."""

    name: str
    description: str
    created_at: datetime
    member_count: int
    members: list[str] | None = None


class TargetGroupPage(BaseModel):
    items: list[TargetGroupOut]
    next_cursor: str | None


# --- execution groups ---------------------------------------------------------------------


class GroupStartBody(_Body):
    """Start `workflow` on every target of `target_group`, at most `concurrency` at a time."""

    target_group: str = Field(min_length=1, max_length=200)
    workflow: str = Field(min_length=1, max_length=200)
    default_parameters: dict[str, Any] = Field(
        default_factory=dict, description="Parameters of every member."
    )
    parameters: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="{target: {...}}: merged over default_parameters for that target's member.",
    )
    concurrency: StrictInt = Field(default=5, description=f"Members running at once (1-{MAX_CONCURRENCY}).")
    force: bool = Field(
        default=False, description="Skip the system and per-target rules (never the group's concurrency)."
    )


class GroupCancelBody(_Body):
    force: bool = Field(default=False, description="Mark running members cancelled now.")
    kill: bool = Field(default=False, description="Also stop running members' processes.")


class ConcurrencyBody(_Body):
    concurrency: StrictInt = Field(
        description=f"1-{MAX_CONCURRENCY}; queued members are admitted against it at once."
    )


class SinkGroupsBody(_Body):
    """Target groups that collect the targets whose member succeeded / failed (null leaves it as is)."""

    success_group: str | None = Field(default=None, max_length=200)
    failed_group: str | None = Field(default=None, max_length=200)


GroupStatus = Literal["pending", "started", "succeeded", "failed", "cancelled"]


class ExecutionGroupOut(BaseModel):
    """The execution group document."""

    id: str
    workflow: str
    target_group: str
    concurrency: int
    force: bool
    default_parameters: dict[str, Any]
    parameters: dict[str, dict[str, Any]]
    created_by: str | None
    created_at: datetime
    success_group: str | None
    failed_group: str | None
    status: GroupStatus = Field(description="Derived from the members' statuses (docs/api.md).")
    execution_ids: list[str] = Field(description="The members, in the order they are admitted.")
    total: int = Field(description="How many members.")
    ended: int = Field(description="How many members are succeeded, failed or cancelled.")
    counts: dict[str, int] = Field(description="Members per execution status (only those with any).")


class ExecutionGroupPage(BaseModel):
    items: list[ExecutionGroupOut]
    next_cursor: str | None


class ExecutionGroupDump(BaseModel):
    """Every group's attributes, for snapshots (Cloudify's execution group dump)."""

    items: list[dict[str, Any]]
