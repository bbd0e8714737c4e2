"""Typed views of the documents the API returns, and the start request shape.

The client keeps each answer's JSON as `.raw` and reads typed attributes
from it on demand: a newer server may add fields, which then stay reachable
through `.raw` without a client upgrade, and `refresh()` only swaps the dict.
The attributes are declared (`workflow = field("workflow", str, "")`), not
written out as readers, so a document class reads as the list of its fields.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Self, TypeVar, overload

from conveyor.core.model import TERMINAL, Status

JSON = dict[str, Any]
T = TypeVar("T")


def parse_datetime(value: Any) -> datetime | None:
    """An API time (ISO 8601, UTC with `Z`) as an aware datetime; None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def format_datetime(value: datetime | str) -> str:
    """A datetime as the API expects it: ISO 8601 in UTC with `Z`.

    Naive datetimes are taken as UTC, like the server does, rather than as
    local time: a schedule that silently moves by the machine's offset is
    worse than one that is plainly documented as UTC. Strings pass through
    untouched so callers can send exactly what they mean.
    """
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class Field(Generic[T]):
    """A typed attribute read from the document's `.raw` on each access (see `field` and `maybe`)."""

    def __init__(self, key: str, convert: Callable[[Any], T], default: object, doc: str) -> None:
        self.path = key.split(".")
        self.convert = convert
        self.default = default
        self.__doc__ = doc

    def read(self, raw: JSON) -> T:
        value: Any = raw
        for key in self.path:
            value = value.get(key) if isinstance(value, dict) else None
        if self.default is not None:
            value = value or self.default  # as the server writes it: an empty value means the default
        return None if value is None else self.convert(value)  # type: ignore[return-value]

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> Field[T]: ...
    @overload
    def __get__(self, obj: Document, owner: type[Any]) -> T: ...
    def __get__(self, obj: Document | None, owner: type[Any]) -> Field[T] | T:
        return self if obj is None else self.read(obj.raw)


def field(key: str, convert: Callable[[Any], T], default: object, doc: str = "") -> Field[T]:
    """`name = field("name", str, "")`: `convert(raw["name"])`, or the default when it is missing or empty.

    A dotted key reads into nested objects (`"trigger.kind"`).
    """
    return Field(key, convert, default, doc)


def maybe(key: str, convert: Callable[[Any], T | None], doc: str = "") -> Field[T | None]:
    """`timeout = maybe("timeout", float)`: None when missing, else converted (so 0 stays 0)."""
    return Field(key, convert, None, doc)


class Document:
    """A server document with typed attributes over it; `.raw` keeps all of it."""

    def __init__(self, raw: JSON) -> None:
        self.raw: JSON = raw

    def _take(self, answer: Document) -> Self:
        """Become the server's answer about this document (actions update the object in place)."""
        self.raw = answer.raw
        return self

    def __eq__(self, other: object) -> bool:
        """The same document from the server: an `Execution` equals an `AsyncExecution` of it."""
        return isinstance(other, Document) and other._kind() is self._kind() and other.raw == self.raw

    @classmethod
    def _kind(cls) -> type[Document]:
        """The shared class (ExecutionData, ...) the sync and async bound ones derive from."""
        return next(c for c in cls.__mro__ if not c.__module__.startswith("conveyor.client._"))

    __hash__ = None  # type: ignore[assignment]  # the document is mutable through refresh()

    id = field("id", str, "")


def _error(err: Any) -> JSON:
    return err if isinstance(err, dict) else {"type": "Error", "message": str(err)}


class ExecutionData(Document):
    """The typed attributes of an execution document; `Execution` and `AsyncExecution` add actions."""

    # identity and request
    workflow = field("workflow", str, "")
    target = maybe("target", str)
    queue = maybe("queue", str)
    priority = field("priority", int, 0)
    parameters = field("parameters", JSON, {})
    is_system = field("is_system", bool, False)
    dry_run = field("dry_run", bool, False)
    force = field("force", bool, False)
    created_by = maybe("created_by", str)
    group_id = maybe("group_id", str)
    # times
    created_at = maybe("created_at", parse_datetime)
    updated_at = maybe("updated_at", parse_datetime)
    scheduled_for = maybe("scheduled_for", parse_datetime)
    started_at = maybe("started_at", parse_datetime)
    ended_at = maybe("ended_at", parse_datetime)
    expires_at = maybe("expires_at", parse_datetime)
    lease_expires_at = maybe("lease_expires_at", parse_datetime)
    # running
    attempt = field("attempt", int, 0)
    max_attempts = field("max_attempts", int, 1)
    timeout = maybe("timeout", float)
    worker_id = maybe("worker_id", str)
    total_operations = maybe("total_operations", int)
    finished_operations = maybe("finished_operations", int)
    progress = maybe(
        "progress", float, "`finished_operations / total_operations` as the server computed it, or None."
    )
    # outcome
    result = field("result", lambda value: value, None)
    error = maybe(
        "error", _error, '`{"type", "message", "traceback"?}` once the execution failed, else None.'
    )

    @property
    def status(self) -> Status:
        """The canonical status; a document fetched with `include` lacking `status` raises KeyError."""
        if "status" not in self.raw:
            raise KeyError("status is not in this document; it was fetched with `include` leaving it out")
        return Status(self.raw["status"])

    @property
    def is_terminal(self) -> bool:
        """True once the execution is succeeded, failed or cancelled: its status will not change by itself."""
        return self.raw.get("status") in TERMINAL

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id} {self.workflow!r} {self.raw.get('status')}>"


@dataclass(frozen=True, slots=True)
class StartSpec:
    """One execution to start; `start_many` takes these (or plain dicts of the same keys)."""

    workflow: str
    parameters: JSON = dataclasses.field(default_factory=dict)
    target: str | None = None
    queue: bool = False
    force: bool = False
    dry_run: bool = False
    schedule: datetime | str | None = None
    priority: int = 0
    allow_custom_parameters: bool = False

    def to_body(self) -> JSON:
        schedule = None if self.schedule is None else format_datetime(self.schedule)
        return {**dataclasses.asdict(self), "schedule": schedule}

    @classmethod
    def coerce(cls, spec: StartSpec | JSON) -> StartSpec:
        """Accept a dict for convenience, refusing unknown keys so a typo is not silently dropped."""
        if isinstance(spec, StartSpec):
            return spec
        unknown = set(spec) - set(cls.__dataclass_fields__)
        if unknown:
            raise TypeError(f"unknown start field(s): {', '.join(sorted(unknown))}")
        if "workflow" not in spec:
            raise TypeError("a start spec needs a 'workflow'")
        return cls(**spec)


class _FromJSON:
    """`from_json` for the frozen answer types: each field read from the answer as `_READ` declares."""

    __slots__ = ()
    _READ: ClassVar[dict[str, Field[Any]]]

    if TYPE_CHECKING:

        def __init__(self, **fields: Any) -> None: ...

    @classmethod
    def from_json(cls, raw: JSON) -> Self:
        return cls(**{name: f.read(raw) for name, f in cls._READ.items()}, raw=raw)


@dataclass(frozen=True, slots=True)
class Workflow(_FromJSON):
    """A registered workflow as the server describes it."""

    name: str
    description: str
    parameters_schema: JSON
    system: bool
    timeout: float | None
    max_attempts: int
    retry_backoff: float
    queue: str
    isolation: str
    retention: float | None
    #: The live workers serving it, and whether there is any.
    workers: list[str]
    served: bool
    raw: JSON

    _READ = {
        "name": field("name", str, ""),
        "description": field("description", str, ""),
        "parameters_schema": field("parameters_schema", JSON, {}),
        "system": field("system", bool, False),
        "timeout": maybe("timeout", float),
        "max_attempts": field("max_attempts", int, 1),
        "retry_backoff": field("retry_backoff", float, 0.0),
        "queue": field("queue", str, "default"),
        "isolation": field("isolation", str, "inline"),
        "retention": maybe("retention", float),
        "workers": field("workers", list, []),
        "served": field("served", bool, False),
    }


@dataclass(frozen=True, slots=True)
class TokenInfo(_FromJSON):
    """An API token; `token` holds the secret only in the answer to `tokens.create()`."""

    id: str
    name: str
    role: str
    created_at: datetime | None
    token: str | None
    raw: JSON

    _READ = {
        "id": field("id", str, ""),
        "name": field("name", str, ""),
        "role": field("role", str, ""),
        "created_at": maybe("created_at", parse_datetime),
        "token": maybe("token", str),
    }
