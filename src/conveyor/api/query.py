"""Query parameters shared by list, count and bulk delete: filters, sort, instants, paging.

Lists accept both `status=a,b` and `status=a&status=b`. Values FastAPI cannot
check by type (statuses, instants, sort fields) are checked here so a wrong one
is a 400 `invalid_request` naming the parameter, never an empty page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query
from fastapi.responses import Response

from conveyor.api.deps import json_answer
from conveyor.core.errors import InvalidRequest
from conveyor.core.executions import MAX_PAGE
from conveyor.core.model import SORTABLE_FIELDS, ExecutionFilter, Status

T = TypeVar("T")

ListParam = Annotated[list[str] | None, Query(description="Comma-separated, or repeat the parameter.")]
Instant = Annotated[
    str | None, Query(description="ISO 8601 instant, e.g. 2026-01-01T00:00:00Z (no offset means UTC).")
]
LimitParam = Annotated[int, Query(ge=1, le=MAX_PAGE)]
CursorParam = Annotated[str | None, Query(description="next_cursor of the previous page")]


def page_answer(
    items: Sequence[T],
    limit: int,
    doc: Callable[[T], Any],
    *,
    key: str = "id",
    cursor: str | None = None,
) -> Response:
    """`{"items", "next_cursor"}` of a list paged by `key` (the order the items come in).

    `items` are the candidates: with `cursor`, those up to it are dropped here; one more than
    `limit` (or any more) means there is a next page, whose cursor is the last item's `key`.
    """
    if cursor:
        items = [i for i in items if getattr(i, key) > cursor]
    page = items[:limit]
    next_cursor = getattr(page[-1], key) if len(items) > limit and page else None
    return json_answer({"items": [doc(i) for i in page], "next_cursor": next_cursor})


def csv(values: Sequence[str] | None) -> tuple[str, ...]:
    """['a,b', 'c'] -> ('a', 'b', 'c'), dropping empty items."""
    if not values:
        return ()
    return tuple(p.strip() for v in values for p in v.split(",") if p.strip())


def parse_instant(value: str | None, field: str) -> datetime | None:
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text)
    except ValueError:
        raise InvalidRequest(
            f"{field} must be an ISO 8601 instant such as 2026-01-01T00:00:00Z, not {value!r}",
            {"field": field},
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def parse_statuses(values: Sequence[str] | None) -> tuple[Status, ...]:
    out: list[Status] = []
    for name in csv(values):
        try:
            out.append(Status(name))
        except ValueError:
            known = ", ".join(s.value for s in Status)
            raise InvalidRequest(f"unknown status {name!r}; statuses: {known}", {"field": "status"}) from None
    return tuple(out)


def parse_sort(values: Sequence[str] | None) -> tuple[str, ...]:
    """`-created_at,workflow` -> ('-created_at', 'workflow'); newest first when not given."""
    items = csv(values)
    for item in items:
        name = item.lstrip("+-")
        if name not in SORTABLE_FIELDS:
            raise InvalidRequest(
                f"cannot sort by {name!r}; sortable fields: {', '.join(SORTABLE_FIELDS)} "
                "(prefix with - for descending)",
                {"field": "sort"},
            )
    return items or ("-id",)


def execution_filter(
    status: ListParam = None,
    workflow: ListParam = None,
    target: ListParam = None,
    queue: ListParam = None,
    created_by: ListParam = None,
    group_id: Annotated[str | None, Query()] = None,
    is_system: Annotated[bool | None, Query()] = None,
    dry_run: Annotated[bool | None, Query()] = None,
    created_after: Instant = None,
    created_before: Instant = None,
) -> ExecutionFilter:
    """The list filters of docs/api.md as one ExecutionFilter (empty means any)."""
    return ExecutionFilter(
        statuses=parse_statuses(status),
        workflows=csv(workflow),
        targets=csv(target),
        queues=csv(queue),
        created_by=csv(created_by),
        group_id=group_id or None,
        is_system=is_system,
        dry_run=dry_run,
        created_after=parse_instant(created_after, "created_after"),
        created_before=parse_instant(created_before, "created_before"),
    )


Filters = Annotated[ExecutionFilter, Depends(execution_filter)]
