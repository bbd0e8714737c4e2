"""Typed views of the documents the API returns, and the start request shape.

The client keeps each answer's JSON as `.raw` and reads typed attributes
from it on demand: a newer server may add fields, which then stay reachable
through `.raw` without a client upgrade, and `refresh()` only swaps the dict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from conveyor.core.model import TERMINAL, Status

JSON = dict[str, Any]


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


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


class Document:
    """A server document with typed attributes over it; `.raw` keeps all of it."""

    def __init__(self, raw: JSON) -> None:
        self.raw: JSON = raw

    def _set_raw(self, raw: JSON) -> None:
        self.raw = raw

    def __eq__(self, other: object) -> bool:
        return isinstance(other, type(self)) and other.raw == self.raw

    __hash__ = None  # type: ignore[assignment]  # the document is mutable through refresh()

    @property
    def id(self) -> str:
        return str(self.raw.get("id", ""))


class ExecutionData(Document):
    """The typed attributes of an execution document; `Execution` and `AsyncExecution` add actions."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id} {self.workflow!r} {self.raw.get('status')}>"

    def __eq__(self, other: object) -> bool:  # an Execution equals an AsyncExecution of the same document
        return isinstance(other, ExecutionData) and other.raw == self.raw

    # --- identity and request --------------------------------------------------
    @property
    def workflow(self) -> str:
        return str(self.raw.get("workflow", ""))

    @property
    def status(self) -> Status:
        """The canonical status; a document fetched with `include` lacking `status` raises KeyError."""
        if "status" not in self.raw:
            raise KeyError("status is not in this document; it was fetched with `include` leaving it out")
        return Status(self.raw["status"])

    @property
    def target(self) -> str | None:
        return self.raw.get("target")

    @property
    def queue(self) -> str | None:
        return self.raw.get("queue")

    @property
    def priority(self) -> int:
        return int(self.raw.get("priority") or 0)

    @property
    def parameters(self) -> JSON:
        return dict(self.raw.get("parameters") or {})

    @property
    def is_system(self) -> bool:
        return bool(self.raw.get("is_system"))

    @property
    def dry_run(self) -> bool:
        return bool(self.raw.get("dry_run"))

    @property
    def force(self) -> bool:
        return bool(self.raw.get("force"))

    @property
    def created_by(self) -> str | None:
        return self.raw.get("created_by")

    @property
    def group_id(self) -> str | None:
        return self.raw.get("group_id")

    # --- times -----------------------------------------------------------------
    @property
    def created_at(self) -> datetime | None:
        return parse_datetime(self.raw.get("created_at"))

    @property
    def updated_at(self) -> datetime | None:
        return parse_datetime(self.raw.get("updated_at"))

    @property
    def scheduled_for(self) -> datetime | None:
        return parse_datetime(self.raw.get("scheduled_for"))

    @property
    def started_at(self) -> datetime | None:
        return parse_datetime(self.raw.get("started_at"))

    @property
    def ended_at(self) -> datetime | None:
        return parse_datetime(self.raw.get("ended_at"))

    @property
    def expires_at(self) -> datetime | None:
        return parse_datetime(self.raw.get("expires_at"))

    @property
    def lease_expires_at(self) -> datetime | None:
        return parse_datetime(self.raw.get("lease_expires_at"))

    # --- running ---------------------------------------------------------------
    @property
    def attempt(self) -> int:
        return int(self.raw.get("attempt") or 0)

    @property
    def max_attempts(self) -> int:
        return int(self.raw.get("max_attempts") or 1)

    @property
    def timeout(self) -> float | None:
        return _float_or_none(self.raw.get("timeout"))

    @property
    def worker_id(self) -> str | None:
        return self.raw.get("worker_id")

    @property
    def total_operations(self) -> int | None:
        return _int_or_none(self.raw.get("total_operations"))

    @property
    def finished_operations(self) -> int | None:
        return _int_or_none(self.raw.get("finished_operations"))

    @property
    def progress(self) -> float | None:
        """`finished_operations / total_operations` as the server computed it, or None when unknown."""
        return _float_or_none(self.raw.get("progress"))

    # --- outcome ---------------------------------------------------------------
    @property
    def result(self) -> Any:
        return self.raw.get("result")

    @property
    def error(self) -> JSON | None:
        """`{"type", "message", "traceback"?}` once the execution failed, else None."""
        err = self.raw.get("error")
        if err is None:
            return None
        return err if isinstance(err, dict) else {"type": "Error", "message": str(err)}

    @property
    def is_terminal(self) -> bool:
        """True once the execution is succeeded, failed or cancelled: its status will not change by itself."""
        return self.raw.get("status") in TERMINAL


@dataclass(frozen=True, slots=True)
class StartSpec:
    """One execution to start; `start_many` takes these (or plain dicts of the same keys)."""

    workflow: str
    parameters: JSON = field(default_factory=dict)
    target: str | None = None
    queue: bool = False
    force: bool = False
    dry_run: bool = False
    schedule: datetime | str | None = None
    priority: int = 0
    allow_custom_parameters: bool = False

    def to_body(self) -> JSON:
        return {
            "workflow": self.workflow,
            "parameters": dict(self.parameters),
            "target": self.target,
            "queue": self.queue,
            "force": self.force,
            "dry_run": self.dry_run,
            "schedule": None if self.schedule is None else format_datetime(self.schedule),
            "priority": self.priority,
            "allow_custom_parameters": self.allow_custom_parameters,
        }

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


@dataclass(frozen=True, slots=True)
class Workflow:
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
    raw: JSON

    @classmethod
    def from_json(cls, raw: JSON) -> Workflow:
        return cls(
            name=str(raw.get("name", "")),
            description=str(raw.get("description") or ""),
            parameters_schema=dict(raw.get("parameters_schema") or {}),
            system=bool(raw.get("system")),
            timeout=_float_or_none(raw.get("timeout")),
            max_attempts=int(raw.get("max_attempts") or 1),
            retry_backoff=float(raw.get("retry_backoff") or 0.0),
            queue=str(raw.get("queue") or "default"),
            isolation=str(raw.get("isolation") or "inline"),
            retention=_float_or_none(raw.get("retention")),
            raw=raw,
        )


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """An API token; `token` holds the secret only in the answer to `tokens.create()`."""

    id: str
    name: str
    role: str
    created_at: datetime | None
    token: str | None
    raw: JSON

    @classmethod
    def from_json(cls, raw: JSON) -> TokenInfo:
        return cls(
            id=str(raw.get("id", "")),
            name=str(raw.get("name", "")),
            role=str(raw.get("role", "")),
            created_at=parse_datetime(raw.get("created_at")),
            token=raw.get("token"),
            raw=raw,
        )
