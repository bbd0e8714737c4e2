"""Cloudify list queries: filters, `_sort`, `_offset`/`_size` and `_include`, over the core's lists.

The manager treats every non-underscore query parameter as a filter on a
model field (repeated values OR-ed) and refuses other names. Conveyor filters
on the fields its ExecutionFilter has; a Cloudify field it cannot filter on is
refused with `bad_parameters_error` naming the ones it can. The core pages by
cursor, Cloudify by offset: a page at an offset is read by walking the
cursor pages before it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from conveyor.core.executions import MAX_PAGE, ExecutionService
from conveyor.core.model import Execution, ExecutionFilter, Status
from conveyor.dialects.cloudify import statuses
from conveyor.dialects.cloudify.deps import boolean, integer
from conveyor.dialects.cloudify.errors import bad_parameters

#: The manager's default and largest page (config `max_results`).
DEFAULT_SIZE = 1000
MAX_SIZE = 1000

#: Cloudify execution field -> Conveyor sort key.
EXECUTION_SORT: dict[str, str] = {
    "id": "id",
    "created_at": "created_at",
    "started_at": "started_at",
    "ended_at": "ended_at",
    "status": "status",
    "workflow_id": "workflow",
    "deployment_id": "target",
}
#: Cloudify execution fields a list can filter on.
EXECUTION_FILTERS = (
    "id", "status", "workflow_id", "deployment_id", "created_by", "is_system_workflow", "is_dry_run",
)  # fmt: skip
#: Accepted and ignored: one tenant, one visibility.
IGNORED_FILTERS = frozenset({"tenant_name", "visibility", "resource_availability"})


@dataclass(frozen=True, slots=True)
class Window:
    offset: int = 0
    size: int = DEFAULT_SIZE
    every: bool = False  # _get_all_results


@dataclass(frozen=True, slots=True)
class ExecutionQuery:
    flt: ExecutionFilter
    nothing: bool  # a filter no status can meet (e.g. status=bogus): the answer is empty
    sort: tuple[str, ...]
    window: Window
    include: tuple[str, ...]  # raw _include values
    get_data: bool


def _values(params: Sequence[tuple[str, str]], name: str) -> list[str]:
    return [v for k, v in params if k == name]


def _last(params: Sequence[tuple[str, str]], name: str) -> str | None:
    found = _values(params, name)
    return found[-1] if found else None


def window(params: Sequence[tuple[str, str]]) -> Window:
    offset = integer(_last(params, "_offset") or 0, "_offset")
    size = integer(_last(params, "_size") or DEFAULT_SIZE, "_size")
    every = boolean(_last(params, "_get_all_results"), "_get_all_results")
    return Window(offset, min(size, MAX_SIZE), every)


def sort_keys(params: Sequence[tuple[str, str]], allowed: dict[str, str], default: str) -> tuple[str, ...]:
    """`_sort=f` / `_sort=-f`, repeatable, as the core's sort keys (`-key` descending)."""
    keys: list[str] = []
    for raw in _values(params, "_sort"):
        for item in raw.split(","):
            item = item.strip()
            if not item:
                continue
            name = item.lstrip("+-")
            if name not in allowed:
                raise bad_parameters(f"cannot sort by `{name}`; sortable fields: {', '.join(allowed)}")
            keys.append(("-" if item.startswith("-") else "") + allowed[name])
    return tuple(keys) or (allowed[default],)


def _flag(values: list[str], name: str) -> bool | None:
    """A boolean filter; asking for both values is no filter at all."""
    seen = {boolean(v, name) for v in values}
    return seen.pop() if len(seen) == 1 else None


def execution_query(params: Sequence[tuple[str, str]], *, system_default: bool = True) -> ExecutionQuery:
    """Read a list (or bulk delete) query. `system_default`: without `_include_system_workflows`
    (or `is_system_workflow`), system executions are left out, as the manager's list does."""
    filters: dict[str, list[str]] = {}
    for key, value in params:
        if key.startswith("_") or key in IGNORED_FILTERS:
            continue
        if key not in EXECUTION_FILTERS:
            raise bad_parameters(
                f"cannot filter executions by `{key}`; filter by {', '.join(EXECUTION_FILTERS)}"
            )
        filters.setdefault(key, []).append(value)
    nothing = False
    statuses_: tuple[Status, ...] = ()
    if "status" in filters:
        statuses_ = statuses.matching(filters["status"])
        nothing = not statuses_
    is_system: bool | None = None
    if "is_system_workflow" in filters:
        is_system = _flag(filters["is_system_workflow"], "is_system_workflow")
    elif system_default:
        include_system = boolean(_last(params, "_include_system_workflows"), "_include_system_workflows")
        is_system = None if include_system else False
    flt = ExecutionFilter(
        ids=tuple(filters.get("id", ())),
        statuses=statuses_,
        workflows=tuple(filters.get("workflow_id", ())),
        targets=tuple(filters.get("deployment_id", ())),
        created_by=tuple(filters.get("created_by", ())),
        is_system=is_system,
        dry_run=_flag(filters["is_dry_run"], "is_dry_run") if "is_dry_run" in filters else None,
        group_id=_last(params, "_group_id") or None,
    )
    return ExecutionQuery(
        flt=flt,
        nothing=nothing,
        sort=sort_keys(params, EXECUTION_SORT, "created_at"),
        window=window(params),
        include=tuple(_values(params, "_include")),
        get_data=boolean(_last(params, "_get_data"), "_get_data"),
    )


def with_statuses(flt: ExecutionFilter, allowed: Sequence[Status]) -> ExecutionFilter:
    """`flt` narrowed to `allowed` statuses (all of them when it named none)."""
    chosen = tuple(s for s in (flt.statuses or allowed) if s in allowed)
    return replace(flt, statuses=chosen)


def read_window(
    service: ExecutionService, flt: ExecutionFilter, sort: Sequence[str], win: Window
) -> list[Execution]:
    """The executions at [offset, offset + size) in `sort` order (every one with `every`)."""
    out: list[Execution] = []
    size = None if win.every else win.size
    skipped = 0
    cursor: str | None = None
    while size is None or len(out) < size:
        wanted = MAX_PAGE if size is None else (win.offset - skipped) + (size - len(out))
        page = service.list(flt, sort=sort, limit=max(1, min(MAX_PAGE, wanted)), cursor=cursor)
        for ex in page.items:
            if skipped < win.offset and not win.every:
                skipped += 1
            elif size is None or len(out) < size:
                out.append(ex)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    return out


T = TypeVar("T")


def _sort_value(get: Callable[[T], Any]) -> Callable[[T], tuple[bool, str]]:
    """A sort key that puts missing values first and compares the rest as text."""

    def key(item: T) -> tuple[bool, str]:
        value = get(item)
        return (
            value is not None,
            "" if value is None else f"{value:>20}" if isinstance(value, int) else str(value),
        )

    return key


def in_memory(
    items: Sequence[T],
    params: Sequence[tuple[str, str]],
    fields: dict[str, Callable[[T], Any]],
    default_sort: str,
) -> tuple[list[T], int, Window]:
    """Filter, sort and page a small in-memory list (execution groups) the way the manager does."""
    chosen = list(items)
    for key, _ in params:
        if key.startswith("_") or key in IGNORED_FILTERS:
            continue
        if key not in fields:
            raise bad_parameters(f"cannot filter by `{key}`; filter by {', '.join(fields)}")
    for key in dict.fromkeys(k for k, _ in params if k in fields):
        wanted = set(_values(params, key))
        get = fields[key]
        chosen = [i for i in chosen if str(get(i)) in wanted]
    keys = sort_keys(params, {k: k for k in fields}, default_sort)
    for key in reversed(keys):  # stable sorts, last key first: a multi-key sort
        chosen.sort(key=_sort_value(fields[key.lstrip("-")]), reverse=key.startswith("-"))
    win = window(params)
    total = len(chosen)
    page = chosen if win.every else chosen[win.offset : win.offset + win.size]
    return page, total, win
