"""The store's SQL statements, each named, read once from the .sql files beside this module.

A file holds statements under `-- name: claim` headers (other `--` lines are
comments). Statements use `?` placeholders and `{slot}` markers, filled in two steps:
- `render(dialect)`, once per store: the constant column lists ({execution_columns}, ...), the
  status lists ({active}, {held}), and the dialect's pieces ({lock}, {skip_locked}, {offset},
  and {executions:ix_name}, the table with the dialect's hint to use that index);
- at the call, with `str.format`: the parts built per call ({ids}, {queues}, {names}, {keys}
  from `sqlbuild.placeholders`; {where}, {after}, {order_by} from `sqlbuild`).
A slot outside these sets is a ValueError at import, an unknown name a KeyError.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from conveyor.core.model import ACTIVE, HELD
from conveyor.store import rows
from conveyor.store.sqlbuild import placeholders

if TYPE_CHECKING:
    from conveyor.store.dialect import Dialect

_HEADER = re.compile(r"^-- name: (\w+)\s*$")
_SLOT = re.compile(r"\{(\w+)(?::(\w+))?\}")

#: Slots filled at the call.
PER_CALL = frozenset({"ids", "queues", "names", "keys", "where", "after", "order_by"})
#: Slots each dialect fills (besides the {table:index} hints).
DIALECT = frozenset({"lock", "skip_locked", "offset"})


def _in(values: frozenset[str]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in sorted(values)) + ")"


CONSTANTS: dict[str, str] = {
    "execution_columns": rows.column_list(rows.COLUMNS),
    "execution_values": placeholders(len(rows.COLUMNS)),
    "schedule_columns": rows.column_list(rows.SCHEDULE_COLUMNS),
    "schedule_values": placeholders(len(rows.SCHEDULE_COLUMNS)),
    "group_columns": rows.column_list(rows.GROUP_COLUMNS),
    "group_values": placeholders(len(rows.GROUP_COLUMNS)),
    "active": _in(frozenset(str(s) for s in ACTIVE)),
    "held": _in(frozenset(str(s) for s in HELD)),
}


def parse(text: str) -> dict[str, str]:
    """`-- name:` sections of one file, comments dropped, as name -> statement."""
    out: dict[str, str] = {}
    name: str | None = None
    for line in text.splitlines():
        header = _HEADER.match(line)
        if header:
            name = header.group(1)
            if name in out:
                raise ValueError(f"statement {name!r} is named twice")
            out[name] = ""
        elif name is not None and line.strip() and not line.lstrip().startswith("--"):
            out[name] = f"{out[name]}\n{line}" if out[name] else line
    return out


def _load() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted(Path(__file__).parent.glob("*.sql")):
        for name, sql in parse(path.read_text(encoding="utf-8")).items():
            if name in found:
                raise ValueError(f"statement {name!r} in {path.name} is named elsewhere too")
            for slot, index in _SLOT.findall(sql):
                if not index and slot not in CONSTANTS and slot not in DIALECT and slot not in PER_CALL:
                    raise ValueError(f"statement {name!r} in {path.name} has an unknown slot {{{slot}}}")
            found[name] = sql
    return found


#: Every statement, by name, with its slots still in place.
QUERIES: Mapping[str, str] = _load()


def render(dialect: Dialect) -> dict[str, str]:
    """Every statement with the constants and this dialect's pieces filled in."""
    fixed = {**CONSTANTS, "lock": dialect.lock, "skip_locked": dialect.skip_locked, "offset": dialect.offset}

    def fill(m: re.Match[str]) -> str:
        slot, index = m.groups()
        if index:
            return dialect.table(slot, index)
        return m.group(0) if slot in PER_CALL else fixed[slot]

    return {name: _SLOT.sub(fill, sql) for name, sql in QUERIES.items()}


def plain(name: str) -> str:
    """A statement that needs no dialect (no dialect or per-call slots), with its constants filled in."""
    return _SLOT.sub(lambda m: CONSTANTS[m.group(1)], QUERIES[name])
