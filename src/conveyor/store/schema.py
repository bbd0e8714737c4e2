"""The tables, as SQLAlchemy Core metadata: the one description Alembic migrations are checked against.

Times are stored as seconds since the epoch (REAL / double precision): the
same representation on both stores, cheap to compare in indexes, and free of
driver time-zone conversions. JSON columns hold JSON text.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData()


def _by_id(name: str, *columns: Column[Any]) -> Table:
    """A table whose rows are keyed by a time-ordered id (UUIDv7)."""
    return Table(name, metadata, Column("id", String(36), primary_key=True), *columns)


def _by_name(name: str, *columns: Column[Any]) -> Table:
    """A table whose rows are keyed by a name people choose."""
    return Table(name, metadata, Column("name", String(200), primary_key=True), *columns)


def _flag(name: str, default: bool = False) -> Column[bool]:
    """A boolean that is never NULL."""
    return Column(name, Boolean, nullable=False, server_default=text("true" if default else "false"))


ACTIVE_SQL = "('pending','running','pausing','cancelling','force_cancelling','kill_cancelling')"

executions = _by_id(
    "executions",
    Column("workflow", String(200), nullable=False),
    Column("status", String(20), nullable=False),
    Column("target", String(200)),
    Column("queue", String(100), nullable=False, server_default="default"),
    Column("priority", Integer, nullable=False, server_default="0"),
    _flag("is_system"),
    _flag("dry_run"),
    _flag("force"),
    Column("created_by", String(200)),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float),
    Column("scheduled_for", Float),
    Column("started_at", Float),
    Column("ended_at", Float),
    Column("attempt", Integer, nullable=False, server_default="0"),
    Column("max_attempts", Integer, nullable=False, server_default="1"),
    Column("retry_backoff", Float, nullable=False, server_default="1"),
    Column("timeout", Float),
    Column("retention", Float),
    Column("expires_at", Float),
    Column("worker_id", String(200)),
    Column("lease_expires_at", Float),
    Column("total_operations", Integer),
    Column("finished_operations", Integer),
    Column("parameters", Text),
    Column("result", Text),
    Column("error", Text),
    Column("state", Text),
    Column("idempotency_key", String(200)),
    Column("group_id", String(36)),
)

# Each index serves one query; the comment says which.
Index(  # claim: the next pending work of a queue, best priority first
    "ix_executions_pending", executions.c.queue, executions.c.priority.desc(), executions.c.id,
    sqlite_where=text("status = 'pending'"), postgresql_where=text("status = 'pending'"),
)  # fmt: skip
Index(  # admission: queued executions in admission order
    "ix_executions_queued", executions.c.priority.desc(), executions.c.id,
    sqlite_where=text("status = 'queued'"), postgresql_where=text("status = 'queued'"),
)  # fmt: skip
Index(  # promotion of due scheduled executions
    "ix_executions_scheduled", executions.c.scheduled_for,
    sqlite_where=text("status = 'scheduled'"), postgresql_where=text("status = 'scheduled'"),
)  # fmt: skip
Index(  # lease reaping
    "ix_executions_lease", executions.c.lease_expires_at,
    sqlite_where=text("lease_expires_at IS NOT NULL"), postgresql_where=text("lease_expires_at IS NOT NULL"),
)  # fmt: skip
Index(  # retention
    "ix_executions_expires", executions.c.expires_at,
    sqlite_where=text("expires_at IS NOT NULL"), postgresql_where=text("expires_at IS NOT NULL"),
)  # fmt: skip
Index(  # deleting finished executions up to a time (an execution ends once: about one entry per row)
    "ix_executions_ended", executions.c.ended_at,
    sqlite_where=text("ended_at IS NOT NULL"), postgresql_where=text("ended_at IS NOT NULL"),
)  # fmt: skip
# Every status change rewrites the row; on PostgreSQL that adds an entry to every index whose
# predicate the row meets. So: few full indexes, partial ones where most rows have no value,
# and none for rare admin queries. Sorting by created_at uses the primary key (ids are UUIDv7).
Index("ix_executions_status", executions.c.status, executions.c.id)  # list/count by status; occupancy
Index("ix_executions_workflow", executions.c.workflow, executions.c.id)
Index("ix_executions_created_by", executions.c.created_by, executions.c.id)
Index(
    "ix_executions_target", executions.c.target, executions.c.id,
    sqlite_where=text("target IS NOT NULL"), postgresql_where=text("target IS NOT NULL"),
)  # fmt: skip
Index(
    "ix_executions_group", executions.c.group_id, executions.c.id,
    sqlite_where=text("group_id IS NOT NULL"), postgresql_where=text("group_id IS NOT NULL"),
)  # fmt: skip
Index(
    "ux_executions_idempotency_key", executions.c.idempotency_key, unique=True,
    sqlite_where=text("idempotency_key IS NOT NULL"), postgresql_where=text("idempotency_key IS NOT NULL"),
)  # fmt: skip

schedules = _by_id(
    "schedules",
    Column("workflow", String(200), nullable=False),
    Column("trigger_kind", String(20), nullable=False),
    Column("trigger_value", Text, nullable=False),
    Column("timezone", String(64), nullable=False, server_default="UTC"),
    Column("parameters", Text),
    Column("target", String(200)),
    Column("description", Text, nullable=False, server_default=""),
    Column("params", Text),
    Column("owner", String(200)),
    _flag("enabled", default=True),
    _flag("suspended"),
    Column("misfire", String(20), nullable=False, server_default="skip"),
    Column("misfire_limit", Integer, nullable=False, server_default="10"),
    Column("grace", Float, nullable=False, server_default="10"),
    Column("overlap", String(20), nullable=False, server_default="allow"),
    Column("priority", Integer, nullable=False, server_default="0"),
    _flag("dry_run"),
    Column("next_fire_at", Float),
    Column("last_fired_at", Float),
    Column("last_execution_id", String(36)),
    Column("fire_count", Integer, nullable=False, server_default="0"),
    _flag("waiting"),
    Column("last_error", Text),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float),
)
Index(  # the background loop: due schedules, soonest first
    "ix_schedules_due", schedules.c.next_fire_at,
    sqlite_where=text("enabled"), postgresql_where=text("enabled"),
)  # fmt: skip
Index("ix_schedules_owner", schedules.c.owner, schedules.c.id)
Index("ix_schedules_target", schedules.c.target)

target_groups = _by_name(
    "target_groups",
    Column("description", Text, nullable=False, server_default=""),
    Column("created_at", Float, nullable=False),
)
target_group_members = Table(
    "target_group_members",
    metadata,
    Column("group_name", String(200), primary_key=True),
    Column("target", String(200), primary_key=True),
)
Index("ix_target_group_members_target", target_group_members.c.target)

execution_groups = _by_id(
    "execution_groups",
    Column("workflow", String(200), nullable=False),
    Column("target_group", String(200), nullable=False),
    Column("concurrency", Integer, nullable=False),
    _flag("force"),
    Column("default_parameters", Text),
    Column("parameters", Text),
    Column("created_by", String(200)),
    Column("created_at", Float, nullable=False),
    Column("success_group", String(200)),
    Column("failed_group", String(200)),
)

workers = Table(  # every worker process that registered, until deleted (see core.model.WorkerInfo)
    "workers",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("host", String(200), nullable=False),
    Column("queues", Text, nullable=False),
    Column("workflows", Text, nullable=False),
    Column("concurrency", Integer, nullable=False),
    Column("transport", String(20), nullable=False),
    Column("version", String(100), nullable=False, server_default=""),
    Column("labels", Text),
    Column("started_at", Float, nullable=False),
    Column("last_seen_at", Float, nullable=False),
    Column("stopped_at", Float),
    Column("token_id", String(36)),
)

#: Signed changes to the number of executions per (status, queue, workflow), written by triggers
#: (migration 0003) as executions are inserted, change status or are deleted; their sum is the
#: count. The background loop folds them into one row per key.
execution_counts = Table(
    "execution_counts",
    metadata,
    Column("status", String(20), nullable=False),
    Column("queue", String(100), nullable=False),
    Column("workflow", String(200), nullable=False),
    Column("n", BigInteger, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("execution_id", String(36), nullable=False),
    Column("ts", Float, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("level", String(10), nullable=False, server_default="info"),
    Column("message", Text, nullable=False, server_default=""),
    Column("data", Text),
)
Index("ix_events_execution", events.c.execution_id, events.c.seq)

workflows = _by_name(
    "workflows",
    Column("info", Text, nullable=False),
    Column("updated_at", Float, nullable=False),
)

targets = _by_name(
    "targets",
    Column("max_concurrent", Integer, nullable=False, server_default="1"),
    Column("labels", Text),
    Column("created_at", Float, nullable=False),
)

tokens = _by_id(
    "tokens",
    Column("name", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("token_hash", String(128), nullable=False, unique=True),
    Column("created_at", Float, nullable=False),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key", String(300), primary_key=True),
    Column("status_code", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    #: sha256 of the request the answer belongs to (method, path, query, body); NULL before 0002.
    Column("request_hash", String(64)),
)
Index("ix_idempotency_created", idempotency_keys.c.created_at)
