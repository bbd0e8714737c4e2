"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 02:46:29.308545
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("execution_id", sa.String(length=36), nullable=False),
        sa.Column("ts", sa.Float(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("level", sa.String(length=10), server_default="info", nullable=False),
        sa.Column("message", sa.Text(), server_default="", nullable=False),
        sa.Column("data", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("seq"),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events_execution", ["execution_id", "seq"], unique=False)

    op.create_table(
        "execution_groups",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("workflow", sa.String(length=200), nullable=False),
        sa.Column("target_group", sa.String(length=200), nullable=False),
        sa.Column("concurrency", sa.Integer(), nullable=False),
        sa.Column("force", sa.Boolean(), server_default=sa.text("(false)"), nullable=False),
        sa.Column("default_parameters", sa.Text(), nullable=True),
        sa.Column("parameters", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("success_group", sa.String(length=200), nullable=True),
        sa.Column("failed_group", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "executions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("workflow", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=True),
        sa.Column("queue", sa.String(length=100), server_default="default", nullable=False),
        sa.Column("priority", sa.Integer(), server_default="0", nullable=False),
        sa.Column("is_system", sa.Boolean(), server_default=sa.text("(false)"), nullable=False),
        sa.Column("dry_run", sa.Boolean(), server_default=sa.text("(false)"), nullable=False),
        sa.Column("force", sa.Boolean(), server_default=sa.text("(false)"), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=True),
        sa.Column("scheduled_for", sa.Float(), nullable=True),
        sa.Column("started_at", sa.Float(), nullable=True),
        sa.Column("ended_at", sa.Float(), nullable=True),
        sa.Column("attempt", sa.Integer(), server_default="0", nullable=False),
        sa.Column("max_attempts", sa.Integer(), server_default="1", nullable=False),
        sa.Column("retry_backoff", sa.Float(), server_default="1", nullable=False),
        sa.Column("timeout", sa.Float(), nullable=True),
        sa.Column("retention", sa.Float(), nullable=True),
        sa.Column("expires_at", sa.Float(), nullable=True),
        sa.Column("worker_id", sa.String(length=200), nullable=True),
        sa.Column("lease_expires_at", sa.Float(), nullable=True),
        sa.Column("total_operations", sa.Integer(), nullable=True),
        sa.Column("finished_operations", sa.Integer(), nullable=True),
        sa.Column("parameters", sa.Text(), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("state", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("group_id", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("executions", schema=None) as batch_op:
        batch_op.create_index("ix_executions_created_by", ["created_by", "id"], unique=False)
        batch_op.create_index(
            "ix_executions_ended",
            ["ended_at"],
            unique=False,
            sqlite_where=sa.text("ended_at IS NOT NULL"),
            postgresql_where=sa.text("ended_at IS NOT NULL"),
        )
        batch_op.create_index(
            "ix_executions_expires",
            ["expires_at"],
            unique=False,
            sqlite_where=sa.text("expires_at IS NOT NULL"),
            postgresql_where=sa.text("expires_at IS NOT NULL"),
        )
        batch_op.create_index(
            "ix_executions_group",
            ["group_id", "id"],
            unique=False,
            sqlite_where=sa.text("group_id IS NOT NULL"),
            postgresql_where=sa.text("group_id IS NOT NULL"),
        )
        batch_op.create_index(
            "ix_executions_lease",
            ["lease_expires_at"],
            unique=False,
            sqlite_where=sa.text("lease_expires_at IS NOT NULL"),
            postgresql_where=sa.text("lease_expires_at IS NOT NULL"),
        )
        batch_op.create_index(
            "ix_executions_pending",
            ["queue", sa.literal_column("priority DESC"), "id"],
            unique=False,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )
        batch_op.create_index(
            "ix_executions_queued",
            [sa.literal_column("priority DESC"), "id"],
            unique=False,
            sqlite_where=sa.text("status = 'queued'"),
            postgresql_where=sa.text("status = 'queued'"),
        )
        batch_op.create_index(
            "ix_executions_scheduled",
            ["scheduled_for"],
            unique=False,
            sqlite_where=sa.text("status = 'scheduled'"),
            postgresql_where=sa.text("status = 'scheduled'"),
        )
        batch_op.create_index("ix_executions_status", ["status", "id"], unique=False)
        batch_op.create_index(
            "ix_executions_target",
            ["target", "id"],
            unique=False,
            sqlite_where=sa.text("target IS NOT NULL"),
            postgresql_where=sa.text("target IS NOT NULL"),
        )
        batch_op.create_index("ix_executions_workflow", ["workflow", "id"], unique=False)
        batch_op.create_index(
            "ux_executions_idempotency_key",
            ["idempotency_key"],
            unique=True,
            sqlite_where=sa.text("idempotency_key IS NOT NULL"),
            postgresql_where=sa.text("idempotency_key IS NOT NULL"),
        )

    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.create_index("ix_idempotency_created", ["created_at"], unique=False)

    op.create_table(
        "schedules",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("workflow", sa.String(length=200), nullable=False),
        sa.Column("trigger_kind", sa.String(length=20), nullable=False),
        sa.Column("trigger_value", sa.Text(), nullable=False),
        sa.Column("timezone", sa.String(length=64), server_default="UTC", nullable=False),
        sa.Column("parameters", sa.Text(), nullable=True),
        sa.Column("target", sa.String(length=200), nullable=True),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("params", sa.Text(), nullable=True),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("(true)"), nullable=False),
        sa.Column("suspended", sa.Boolean(), server_default=sa.text("(false)"), nullable=False),
        sa.Column("misfire", sa.String(length=20), server_default="skip", nullable=False),
        sa.Column("misfire_limit", sa.Integer(), server_default="10", nullable=False),
        sa.Column("grace", sa.Float(), server_default="10", nullable=False),
        sa.Column("overlap", sa.String(length=20), server_default="allow", nullable=False),
        sa.Column("priority", sa.Integer(), server_default="0", nullable=False),
        sa.Column("dry_run", sa.Boolean(), server_default=sa.text("(false)"), nullable=False),
        sa.Column("next_fire_at", sa.Float(), nullable=True),
        sa.Column("last_fired_at", sa.Float(), nullable=True),
        sa.Column("last_execution_id", sa.String(length=36), nullable=True),
        sa.Column("fire_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("waiting", sa.Boolean(), server_default=sa.text("(false)"), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.create_index(
            "ix_schedules_due",
            ["next_fire_at"],
            unique=False,
            sqlite_where=sa.text("enabled"),
            postgresql_where=sa.text("enabled"),
        )
        batch_op.create_index("ix_schedules_owner", ["owner", "id"], unique=False)
        batch_op.create_index("ix_schedules_target", ["target"], unique=False)

    op.create_table(
        "target_group_members",
        sa.Column("group_name", sa.String(length=200), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("group_name", "target"),
    )
    with op.batch_alter_table("target_group_members", schema=None) as batch_op:
        batch_op.create_index("ix_target_group_members_target", ["target"], unique=False)

    op.create_table(
        "target_groups",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "targets",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("max_concurrent", sa.Integer(), server_default="1", nullable=False),
        sa.Column("labels", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "tokens",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("token_hash", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "workflows",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("info", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("workflows")
    op.drop_table("tokens")
    op.drop_table("targets")
    op.drop_table("target_groups")
    with op.batch_alter_table("target_group_members", schema=None) as batch_op:
        batch_op.drop_index("ix_target_group_members_target")

    op.drop_table("target_group_members")
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.drop_index("ix_schedules_target")
        batch_op.drop_index("ix_schedules_owner")
        batch_op.drop_index(
            "ix_schedules_due", sqlite_where=sa.text("enabled"), postgresql_where=sa.text("enabled")
        )

    op.drop_table("schedules")
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_idempotency_created")

    op.drop_table("idempotency_keys")
    with op.batch_alter_table("executions", schema=None) as batch_op:
        batch_op.drop_index(
            "ux_executions_idempotency_key",
            sqlite_where=sa.text("idempotency_key IS NOT NULL"),
            postgresql_where=sa.text("idempotency_key IS NOT NULL"),
        )
        batch_op.drop_index("ix_executions_workflow")
        batch_op.drop_index(
            "ix_executions_target",
            sqlite_where=sa.text("target IS NOT NULL"),
            postgresql_where=sa.text("target IS NOT NULL"),
        )
        batch_op.drop_index("ix_executions_status")
        batch_op.drop_index(
            "ix_executions_scheduled",
            sqlite_where=sa.text("status = 'scheduled'"),
            postgresql_where=sa.text("status = 'scheduled'"),
        )
        batch_op.drop_index(
            "ix_executions_queued",
            sqlite_where=sa.text("status = 'queued'"),
            postgresql_where=sa.text("status = 'queued'"),
        )
        batch_op.drop_index(
            "ix_executions_pending",
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )
        batch_op.drop_index(
            "ix_executions_lease",
            sqlite_where=sa.text("lease_expires_at IS NOT NULL"),
            postgresql_where=sa.text("lease_expires_at IS NOT NULL"),
        )
        batch_op.drop_index(
            "ix_executions_group",
            sqlite_where=sa.text("group_id IS NOT NULL"),
            postgresql_where=sa.text("group_id IS NOT NULL"),
        )
        batch_op.drop_index(
            "ix_executions_expires",
            sqlite_where=sa.text("expires_at IS NOT NULL"),
            postgresql_where=sa.text("expires_at IS NOT NULL"),
        )
        batch_op.drop_index(
            "ix_executions_ended",
            sqlite_where=sa.text("ended_at IS NOT NULL"),
            postgresql_where=sa.text("ended_at IS NOT NULL"),
        )
        batch_op.drop_index("ix_executions_created_by")

    op.drop_table("executions")
    op.drop_table("execution_groups")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_execution")

    op.drop_table("events")
