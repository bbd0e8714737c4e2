"""ONTAP's query syntax on job fields, and what of it the store can do.

A query parameter `field=value` filters on a job field. The value may be:
`a|b` (or), `*` in a value (greedy wildcard), `<x` `>x` `<=x` `>=x` (compare),
`!x` (not equal; `!*x*` is "does not match"), `null` / `!null` (unset / set).

Each predicate is evaluated here, on the job as ONTAP shows it, so the answer is
always exact. What the store can do too is pushed down into an `ExecutionFilter`
to keep pages cheap:
- `state`, `code` and `error.code` depend on the status alone: any predicate on
  them becomes an exact set of canonical statuses;
- `uuid`, `description`, `svm.name` with plain values (no operator, no wildcard)
  become ids, workflows and targets.
Other predicates (`message`, times, wildcards, negations on names) are evaluated
in the dialect over the rows the store lists (see `routes.scan`).
Matching is case-sensitive.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from conveyor.core.model import ExecutionFilter, Status
from conveyor.dialects.ontap import errors
from conveyor.dialects.ontap.mapping import CODE_BY_STATUS, STATES, state_of

#: Fields a query may filter on, and the type their values compare as.
QUERY_FIELDS: dict[str, str] = {
    "uuid": "str",
    "description": "str",
    "state": "str",
    "message": "str",
    "code": "int",
    "start_time": "time",
    "end_time": "time",
    "svm.name": "str",
    "error.code": "str",
    "error.message": "str",
}
#: Top-level fields `fields=` may name (nested paths under them are accepted too).
RECORD_FIELDS = (
    *("uuid", "description", "state", "message", "code", "start_time", "end_time"),
    *("svm", "error", "node", "_links"),
)
#: ONTAP field -> the store's sort key, for `order_by`.
SORT_KEYS = {
    "uuid": "id",
    "description": "workflow",
    "svm.name": "target",
    "start_time": "started_at",
    "end_time": "ended_at",
}
CURSOR_PARAM = "start.cursor"
DEFAULT_MAX_RECORDS = 10_000
DEFAULT_RETURN_TIMEOUT = 15
MAX_RETURN_TIMEOUT = 120

#: Fields whose value follows from the status alone: a predicate on them is a set of statuses.
_BY_STATUS: dict[str, Callable[[Status], Any]] = {
    "state": state_of,
    "code": lambda s: CODE_BY_STATUS[s],
    "error.code": lambda s: str(CODE_BY_STATUS[s]) if state_of(s) == "failure" else None,
}
_PLAIN_PUSHDOWN = {"uuid": "ids", "description": "workflows", "svm.name": "targets"}
_COMPARISONS = (("<=", "le"), (">=", "ge"), ("<", "lt"), (">", "gt"))


@dataclass(frozen=True, slots=True)
class Alternative:
    """One `|`-separated part of a query value."""

    op: str  # eq ne lt le gt ge like unlike null notnull
    value: Any = None
    pattern: Wildcard | None = None

    def matches(self, actual: Any) -> bool:
        op = self.op
        if op == "null":
            return actual is None
        if op == "notnull":
            return actual is not None
        if actual is None:
            return op in ("ne", "unlike")
        if op in ("like", "unlike"):
            assert self.pattern is not None
            found = self.pattern.fullmatch(_text(actual))
            return found if op == "like" else not found
        if op == "eq":
            return bool(actual == self.value)
        if op == "ne":
            return bool(actual != self.value)
        if op == "lt":
            return bool(actual < self.value)
        if op == "le":
            return bool(actual <= self.value)
        if op == "gt":
            return bool(actual > self.value)
        return bool(actual >= self.value)


@dataclass(frozen=True, slots=True)
class Predicate:
    field: str
    raw: str
    alternatives: tuple[Alternative, ...]

    def matches(self, record: Mapping[str, Any]) -> bool:
        actual = typed(self.field, lookup(record, self.field))
        return any(a.matches(actual) for a in self.alternatives)

    def matches_value(self, actual: Any) -> bool:
        return any(a.matches(actual) for a in self.alternatives)


@dataclass(frozen=True, slots=True)
class JobQuery:
    """The field filters of a request, with what the store can do of them."""

    predicates: tuple[Predicate, ...] = ()
    store_filter: ExecutionFilter = field(default_factory=ExecutionFilter)
    #: No job can match (e.g. `state=success&code=1`): the store need not be asked.
    empty: bool = False
    #: The store filter is the whole query: counts need not look at rows.
    exact: bool = True

    def matches(self, record: Mapping[str, Any]) -> bool:
        return all(p.matches(record) for p in self.predicates)


# --- values -----------------------------------------------------------------------


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def parse_time(text: str, name: str) -> datetime:
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise errors.bad_value(
            f'The value "{text}" for "{name}" is not a time; use ISO 8601, e.g. 2026-01-31T12:00:00Z', name
        ) from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def typed(name: str, value: Any) -> Any:
    """A record's value as it compares: times as datetimes, codes as ints."""
    if value is None:
        return None
    kind = QUERY_FIELDS.get(name, "str")
    if kind == "time":
        return datetime.fromisoformat(str(value))
    if kind == "int":
        return int(value)
    return str(value)


def _literal(name: str, text: str) -> Any:
    kind = QUERY_FIELDS[name]
    if kind == "int":
        try:
            return int(text.strip())
        except ValueError:
            raise errors.bad_value(f'The value "{text}" for "{name}" is not an integer.', name) from None
    if kind == "time":
        return parse_time(text, name)
    return text


@dataclass(frozen=True, slots=True)
class Wildcard:
    """A `*` pattern matched in linear time.

    A regular expression built from the pattern (`a.*b.*c`) backtracks: a value
    of a dozen stars against a long text held the interpreter for minutes. With
    only `*` as a metacharacter, taking each middle part at its leftmost place is
    always right, so one left-to-right scan with `str.find` decides the match.
    """

    parts: tuple[str, ...]

    @classmethod
    def of(cls, text: str) -> Wildcard:
        return cls(tuple(text.split("*")))

    def fullmatch(self, text: str) -> bool:
        head, *middle, tail = self.parts
        if len(text) < len(head) + len(tail) or not text.startswith(head) or not text.endswith(tail):
            return False
        at, end = len(head), len(text) - len(tail)
        for part in middle:
            found = text.find(part, at, end)
            if found < 0:
                return False
            at = found + len(part)
        return True


def parse_alternative(name: str, text: str) -> Alternative:
    if text == "null":
        return Alternative("null")
    if text == "!null":
        return Alternative("notnull")
    for prefix, op in _COMPARISONS:
        if text.startswith(prefix):
            operand = text[len(prefix) :]
            if not operand:
                example = f"{name}={prefix}5"
                raise errors.bad_value(f'"{name}={text}" compares with nothing; write e.g. {example}', name)
            return Alternative(op, _literal(name, operand))
    if text.startswith("!"):
        rest = text[1:]
        if "*" in rest:
            return Alternative("unlike", pattern=Wildcard.of(rest))
        return Alternative("ne", _literal(name, rest))
    if "*" in text:
        return Alternative("like", pattern=Wildcard.of(text))
    return Alternative("eq", _literal(name, text))


def parse_predicate(name: str, value: str) -> Predicate:
    return Predicate(name, value, tuple(parse_alternative(name, part) for part in value.split("|")))


def lookup(record: Mapping[str, Any], path: str) -> Any:
    current: Any = record
    for part in path.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return None
        current = current[part]
    return current


# --- the query as a whole -----------------------------------------------------------


def build_query(filters: Iterable[tuple[str, str]]) -> JobQuery:
    """Parse `(field, value)` filters (anything that is not a control parameter)."""
    predicates: list[Predicate] = []
    statuses: set[Status] | None = None
    lists: dict[str, list[str]] = {}
    exact = True
    for name, value in filters:
        if name not in QUERY_FIELDS:
            raise errors.unexpected_argument(name)
        predicate = parse_predicate(name, value)
        if name == "state":
            _check_states(predicate)
        predicates.append(predicate)
        if name in _BY_STATUS:
            of = _BY_STATUS[name]
            allowed = {s for s in Status if predicate.matches_value(typed(name, of(s)))}
            statuses = allowed if statuses is None else statuses & allowed
        elif name in _PLAIN_PUSHDOWN and all(a.op == "eq" for a in predicate.alternatives):
            values = [str(a.value) for a in predicate.alternatives]
            key = _PLAIN_PUSHDOWN[name]
            if key in lists:  # the same field twice: both must hold
                lists[key] = [v for v in lists[key] if v in values]
                if not lists[key]:
                    return JobQuery(tuple(predicates), empty=True)
            else:
                lists[key] = values
        else:
            exact = False
    if statuses is not None and not statuses:
        return JobQuery(tuple(predicates), empty=True)
    flt = ExecutionFilter(
        ids=tuple(lists.get("ids", ())),
        workflows=tuple(lists.get("workflows", ())),
        targets=tuple(lists.get("targets", ())),
        statuses=tuple(sorted(statuses, key=list(Status).index)) if statuses is not None else (),
    )
    return JobQuery(tuple(predicates), flt, exact=exact)


def _check_states(predicate: Predicate) -> None:
    """A plain state that is not one of ONTAP's five is a mistake (e.g. "cancelled"), not a filter."""
    for alt in predicate.alternatives:
        if alt.op in ("eq", "ne") and alt.value not in STATES:
            raise errors.bad_value(
                f'"{alt.value}" is not a job state; job states: {", ".join(STATES)}.', "state"
            )


def parse_fields(raw: str | None) -> set[str] | None:
    """`fields=` as a set of paths; None means every field (`*`, `**`)."""
    if raw is None:
        return set()
    names = {part.strip() for part in raw.split(",") if part.strip()}
    if "*" in names or "**" in names:
        return None
    for name in names:
        if name.split(".", 1)[0] not in RECORD_FIELDS:
            raise errors.bad_value(
                f'The value "{name}" is invalid for "fields"; job fields: {", ".join(RECORD_FIELDS)}',
                "fields",
            )
    return names


def project(record: Mapping[str, Any], fields: set[str] | None) -> dict[str, Any]:
    """The record with only `fields` (plus the key and links, always there); None keeps all."""
    if fields is None:
        return dict(record)
    out: dict[str, Any] = {"uuid": record["uuid"]}
    for path in sorted(fields):
        value = lookup(record, path)
        if value is None:
            continue
        parts = path.split(".")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    out["_links"] = record["_links"]
    return out


def parse_order_by(raw: str | None) -> tuple[str, ...]:
    """`order_by=start_time desc,uuid` as the store's sort keys; creation order by default."""
    if raw is None or not raw.strip():
        return ("id",)
    keys: list[str] = []
    for item in raw.split(","):
        words = item.split()
        if not words:
            continue
        name = words[0]
        direction = words[1].lower() if len(words) > 1 else "asc"
        if name not in SORT_KEYS:
            raise errors.OntapError(
                400,
                errors.UNSUPPORTED,
                f'Jobs cannot be ordered by "{name}"; order by {", ".join(SORT_KEYS)} (asc or desc).',
                "order_by",
            )
        if direction not in ("asc", "desc") or len(words) > 2:
            message = f'"{item.strip()}" in order_by must be "<field> asc" or "<field> desc".'
            raise errors.bad_value(message, "order_by")
        keys.append(("-" if direction == "desc" else "") + SORT_KEYS[name])
    return tuple(keys) or ("id",)


def parse_int(raw: str | None, name: str, default: int, low: int, high: int | None = None) -> int:
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise errors.bad_value(f'The value "{raw}" for "{name}" is not an integer.', name) from None
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise errors.bad_value(f'"{name}" must be {bound}, not {value}.', name)
    return value


def parse_bool(raw: str | None, name: str, default: bool) -> bool:
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise errors.bad_value(f'The value "{raw}" for "{name}" must be true or false.', name)


# --- continuation ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Position:
    """Where the next page starts: the store's cursor, then `skip` rows already handed out."""

    cursor: str | None = None
    skip: int = 0

    def encode(self) -> str:
        raw = json.dumps({"c": self.cursor, "s": self.skip}, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str | None) -> Position:
        if not token:
            return cls()
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            data = json.loads(raw)
            cursor, skip = data["c"], int(data["s"])
            if (cursor is not None and not isinstance(cursor, str)) or skip < 0:
                raise ValueError
        except (ValueError, KeyError, TypeError):
            raise errors.bad_value(
                f'"{CURSOR_PARAM}" is not one this server gave out; follow _links.next.href as given.',
                CURSOR_PARAM,
            ) from None
        return cls(cursor, skip)
