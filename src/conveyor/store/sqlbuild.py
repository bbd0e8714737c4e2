"""SQL fragments for filters, sorting and keyset cursors, shared by the SQL stores.

Fragments use `?` placeholders; a store whose driver wants another style
converts them once (see `to_format_style`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

from conveyor.core.errors import InvalidRequest
from conveyor.core.model import SORTABLE_FIELDS, ExecutionFilter
from conveyor.store.rows import ts

#: How each sortable field is compared; nullable ones get a neutral value so keyset paging works.
SORT_EXPR = {
    "id": "id",
    "created_at": "id",  # UUIDv7 ids sort by creation time: the primary key serves this order
    "status": "status",
    "workflow": "workflow",
    "target": "COALESCE(target, '')",
    "priority": "priority",
    "started_at": "COALESCE(started_at, 0)",
    "ended_at": "COALESCE(ended_at, 0)",
}
_ROW_INDEX = {"id": 0, "created_at": 0, "status": 2, "workflow": 1, "target": 3, "priority": 5,
              "started_at": 13, "ended_at": 14}  # fmt: skip
_NEUTRAL: dict[str, Any] = {"target": "", "started_at": 0, "ended_at": 0}


def placeholders(n: int) -> str:
    """'?, ?, ?' for a list of n values (an IN list)."""
    return ", ".join("?" * n)


def _in(column: str, values: Sequence[Any], params: list[Any]) -> str:
    params.extend(values)
    return f"{column} IN ({placeholders(len(values))})"


def where(flt: ExecutionFilter) -> tuple[str, list[Any]]:
    """WHERE clause (without the keyword; '1=1' when empty) and its parameters."""
    parts: list[str] = []
    params: list[Any] = []
    for column, values in (
        ("id", flt.ids), ("status", [str(s) for s in flt.statuses]), ("workflow", flt.workflows),
        ("target", flt.targets), ("queue", flt.queues), ("created_by", flt.created_by),
    ):  # fmt: skip
        if values:
            parts.append(_in(column, list(values), params))
    for column, value in (("is_system", flt.is_system), ("dry_run", flt.dry_run)):
        if value is not None:
            parts.append(f"{column} = ?")
            params.append(value)
    if flt.group_id is not None:
        parts.append("group_id = ?")
        params.append(flt.group_id)
    for column, op, when in (
        ("created_at", ">=", flt.created_after), ("created_at", "<", flt.created_before),
        ("ended_at", "<=", flt.ended_before),
    ):  # fmt: skip
        if when is not None:
            parts.append(f"{column} {op} ?")
            params.append(ts(when))
    return (" AND ".join(parts) or "1=1"), params


def parse_sort(sort: Sequence[str]) -> list[tuple[str, bool]]:
    """['-created_at', 'workflow'] -> [(field, descending)], always ending in id for a total order."""
    keys: list[tuple[str, bool]] = []
    for raw in sort:
        for item in raw.split(","):
            item = item.strip()
            if not item:
                continue
            desc = item.startswith("-")
            name = item.lstrip("+-")
            if name not in SORT_EXPR:
                raise InvalidRequest(
                    f"cannot sort by {name!r}; sortable fields: {', '.join(SORTABLE_FIELDS)}",
                    {"field": "sort"},
                )
            keys.append((name, desc))
    if not keys:
        keys = [("id", True)]
    if keys[-1][0] != "id" and all(k != "id" for k, _ in keys):
        keys.append(("id", keys[0][1]))
    return keys


def order_by(keys: list[tuple[str, bool]]) -> str:
    return ", ".join(f"{SORT_EXPR[k]} {'DESC' if d else 'ASC'}" for k, d in keys)


def after_cursor(keys: list[tuple[str, bool]], cursor: str | None) -> tuple[str, list[Any]]:
    """Keyset condition for 'rows after the cursor', as (k1 > v1) OR (k1 = v1 AND k2 > v2) ..."""
    if not cursor:
        return "1=1", []
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()).decode())
        if not isinstance(values, list) or len(values) != len(keys):
            raise ValueError
    except ValueError as exc:
        raise InvalidRequest("the cursor is not one this server gave out", {"field": "cursor"}) from exc
    ors: list[str] = []
    params: list[Any] = []
    for i, (k, desc) in enumerate(keys):
        ands = [f"{SORT_EXPR[pk]} = ?" for pk, _ in keys[:i]]
        params.extend(values[:i])
        ands.append(f"{SORT_EXPR[k]} {'<' if desc else '>'} ?")
        params.append(values[i])
        ors.append("(" + " AND ".join(ands) + ")")
    return "(" + " OR ".join(ors) + ")", params


def cursor_for(keys: list[tuple[str, bool]], row: Sequence[Any]) -> str:
    values = []
    for k, _ in keys:
        v = row[_ROW_INDEX[k]]
        values.append(_NEUTRAL.get(k) if v is None else v)
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()


def to_format_style(sql: str) -> str:
    """'?' placeholders to psycopg's '%s' (our SQL has no literal '?' or '%')."""
    return sql.replace("%", "%%").replace("?", "%s")


def schedule_where(
    ids: Sequence[str], owner: str | None, target: str | None, after: str | None
) -> tuple[str, list[Any]]:
    """WHERE clause ('1=1' when empty) and parameters for a list of schedules, paged by id."""
    parts: list[str] = []
    params: list[Any] = []
    if ids:
        parts.append(_in("id", list(ids), params))
    for column, op, value in (("owner", "=", owner), ("target", "=", target), ("id", ">", after)):
        if value is not None:
            parts.append(f"{column} {op} ?")
            params.append(value)
    return (" AND ".join(parts) or "1=1"), params
