"""Admission: should an execution start now?

The rule lives here once. Stores gather the occupancy inside their own atomic
operation (a write transaction or row locks) and ask these functions, so the
rule cannot drift between SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

DEFAULT_MAX_CONCURRENT = 1


@dataclass(frozen=True, slots=True)
class Candidate:
    """What admission needs to know about an execution waiting to start."""

    id: str
    target: str | None
    is_system: bool
    force: bool
    group: str | None = None  # execution group, gated by its concurrency


@dataclass(slots=True)
class Occupancy:
    """What is active right now, as seen inside the store's atomic operation."""

    active: int = 0
    system_active: int = 0
    by_target: Counter[str] = field(default_factory=Counter)
    max_concurrent: dict[str, int] = field(default_factory=dict)
    by_group: Counter[str] = field(default_factory=Counter)
    group_concurrency: dict[str, int] = field(default_factory=dict)

    def limit(self, target: str) -> int:
        return self.max_concurrent.get(target, DEFAULT_MAX_CONCURRENT)

    def take(self, c: Candidate) -> None:
        self.active += 1
        if c.group is not None:
            self.by_group[c.group] += 1
        if c.is_system:
            self.system_active += 1
        elif c.target is not None:
            self.by_target[c.target] += 1


def blocked_by(c: Candidate, occ: Occupancy) -> str | None:
    """Why `c` cannot start now, or None when it may.

    `force` skips the system and target rules, never its execution group's concurrency.
    """
    if c.group is not None:
        running, gate = occ.by_group[c.group], occ.group_concurrency.get(c.group, 1)
        if running >= gate:
            return f"its execution group already runs {running} of at most {gate}"
    if c.force:
        return None
    if occ.system_active:
        return "a system execution is running"
    if c.is_system:
        return f"{occ.active} execution(s) are still running" if occ.active else None
    if c.target is not None and occ.by_target[c.target] >= occ.limit(c.target):
        return f"target {c.target!r} already runs {occ.by_target[c.target]} execution(s)"
    return None


def admit_in_order(queued: Iterable[Candidate], occ: Occupancy) -> list[Candidate]:
    """Pick which queued executions start now, taking them in the given (priority, creation) order.

    A system execution that must wait is a barrier: nothing queued behind it
    starts before it, so a steady stream of small jobs cannot starve it.
    A target whose head of line must wait holds back later ones on that target.
    """
    admitted: list[Candidate] = []
    for c in queued:
        if blocked_by(c, occ) is None:
            occ.take(c)
            admitted.append(c)
        elif c.is_system:
            break
    return admitted


def start_decision(c: Candidate, occ: Occupancy, *, system_queued: bool, target_queued: bool) -> str | None:
    """Why a new execution cannot start at once, or None when it may.

    A newcomer also yields to what is already waiting: a queued system
    execution, or a queued execution on its own target.
    """
    if c.force:
        return blocked_by(c, occ)
    if system_queued:
        return "a system execution is waiting to run"
    if c.target is not None and target_queued:
        return f"executions on target {c.target!r} are already waiting"
    return blocked_by(c, occ)
