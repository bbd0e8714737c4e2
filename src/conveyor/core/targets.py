"""Targets (what executions act on) and target groups (named sets of them).

A target carries the admission limit `max_concurrent`; starting an execution
on a target nobody created is refused unless the server creates targets
implicitly (a setting, off by default).
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from conveyor.core.clock import Clock
from conveyor.core.errors import InvalidRequest, NotFound, found
from conveyor.core.ports import Store

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,199}$")


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    created_at: datetime
    max_concurrent: int = 1
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TargetGroup:
    name: str
    created_at: datetime
    description: str = ""
    members: tuple[str, ...] = ()


def check_name(kind: str, name: str) -> str:
    if not isinstance(name, str) or not NAME.match(name):
        raise InvalidRequest(
            f"{kind} name {name!r} is not valid: use 1-200 letters, digits and . _ : @ / -, "
            "starting with a letter or digit",
            {"field": "name"},
        )
    return name


def matches(labels: dict[str, str], wanted: dict[str, str]) -> bool:
    """A label filter: every wanted key present with that value ('*' matches any value)."""
    return all(k in labels and (v == "*" or labels[k] == v) for k, v in wanted.items())


class TargetService:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    # --- targets -------------------------------------------------------------------

    def create(self, name: str, *, max_concurrent: int = 1, labels: dict[str, str] | None = None) -> Target:
        check_name("target", name)
        _check_limit(max_concurrent)
        t = Target(name, self.clock.now(), max_concurrent, dict(labels or {}))
        self.store.target_add(t)
        return t

    def get(self, name: str) -> Target:
        return found(self.store.target_get(name), "target", name)

    def list(self, *, labels: dict[str, str] | None = None) -> builtins.list[Target]:
        every = self.store.target_list()
        return [t for t in every if matches(t.labels, labels)] if labels else every

    def update(
        self, name: str, *, max_concurrent: int | None = None, labels: dict[str, str] | None = None
    ) -> Target:
        if max_concurrent is not None:
            _check_limit(max_concurrent)
        return self.store.target_update(
            name, max_concurrent=max_concurrent, labels=labels, now=self.clock.now()
        )

    def delete(self, name: str, *, force: bool = False) -> None:
        """Refused while executions on it are active, unless forced; its schedules go with it."""
        self.get(name)
        self.store.target_delete(name, force=force)

    # --- target groups ----------------------------------------------------------------

    def create_group(
        self,
        name: str,
        *,
        description: str = "",
        members: Sequence[str] = (),
        labels: dict[str, str] | None = None,
    ) -> TargetGroup:
        check_name("target group", name)
        chosen = self._resolve(members, labels)  # unknown members refuse the call before anything is stored
        self.store.target_group_add(TargetGroup(name, self.clock.now(), description))
        self.store.target_group_add_members(name, chosen)
        return self.get_group(name)

    def get_group(self, name: str) -> TargetGroup:
        return found(self.store.target_group_get(name), "target group", name)

    def list_groups(self) -> builtins.list[TargetGroup]:
        return self.store.target_group_list()

    def delete_group(self, name: str) -> None:
        self.get_group(name)
        self.store.target_group_delete(name)

    def _resolve(self, names: Iterable[str], labels: dict[str, str] | None) -> builtins.list[str]:
        chosen = list(dict.fromkeys(names))
        known = {t.name for t in self.store.target_list()}
        unknown = [n for n in chosen if n not in known]
        if unknown:
            raise NotFound("target", ", ".join(unknown))
        if labels:
            chosen += [t.name for t in self.list(labels=labels) if t.name not in chosen]
        return chosen

    def add_members(
        self, group: str, names: Sequence[str] = (), *, labels: dict[str, str] | None = None
    ) -> TargetGroup:
        """Add targets by name and/or by label filter (resolved now: membership is a list, not a query)."""
        self.get_group(group)
        self.store.target_group_add_members(group, self._resolve(names, labels))
        return self.get_group(group)

    def remove_members(
        self, group: str, names: Sequence[str] = (), *, labels: dict[str, str] | None = None
    ) -> TargetGroup:
        current = self.get_group(group)
        drop = [n for n in names if n in current.members]
        if labels:
            drop += [t.name for t in self.list(labels=labels) if t.name in current.members]
        self.store.target_group_remove_members(group, drop)
        return self.get_group(group)


def _check_limit(max_concurrent: int) -> None:
    if not isinstance(max_concurrent, int) or not 1 <= max_concurrent <= 10_000:
        raise InvalidRequest(
            "max_concurrent must be a whole number from 1 to 10000", {"field": "max_concurrent"}
        )
