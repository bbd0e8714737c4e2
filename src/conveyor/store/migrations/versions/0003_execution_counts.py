"""executions are counted by status, queue and workflow as they change

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 20:40:00

Counting a million executions by status took 50-80 ms, and the dashboard asks for
its counts every few seconds per open tab. `execution_counts` holds signed deltas,
one row per change, written by triggers in the same transaction as the change (so
every write path counts, bulk loads included, and no writer waits for another:
deltas are inserted, never updated in place). Summing them is the count; the
background loop folds them into one row per key now and then (store:
`execution_counts_fold`). PostgreSQL triggers fire once per statement over its
transition tables; SQLite's once per row.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_KEY = "status, queue, workflow"

_POSTGRES = (
    f"""
    CREATE FUNCTION execution_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO execution_counts ({_KEY}, n)
        SELECT {_KEY}, COUNT(*) FROM new_rows GROUP BY {_KEY};
        RETURN NULL;
    END $$
    """,
    f"""
    CREATE FUNCTION execution_counts_updated() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO execution_counts ({_KEY}, n)
        SELECT {_KEY}, SUM(n) FROM (
            SELECT {_KEY}, -1 AS n FROM old_rows UNION ALL SELECT {_KEY}, 1 AS n FROM new_rows
        ) AS change GROUP BY {_KEY} HAVING SUM(n) <> 0;
        RETURN NULL;
    END $$
    """,
    f"""
    CREATE FUNCTION execution_counts_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO execution_counts ({_KEY}, n)
        SELECT {_KEY}, -COUNT(*) FROM old_rows GROUP BY {_KEY};
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER executions_counted_insert AFTER INSERT ON executions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION execution_counts_inserted()
    """,
    """
    CREATE TRIGGER executions_counted_update AFTER UPDATE ON executions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION execution_counts_updated()
    """,
    """
    CREATE TRIGGER executions_counted_delete AFTER DELETE ON executions
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION execution_counts_deleted()
    """,
)

_SQLITE = (
    f"""
    CREATE TRIGGER executions_counted_insert AFTER INSERT ON executions BEGIN
        INSERT INTO execution_counts ({_KEY}, n) VALUES (NEW.status, NEW.queue, NEW.workflow, 1);
    END
    """,
    f"""
    CREATE TRIGGER executions_counted_update AFTER UPDATE OF status ON executions
    WHEN OLD.status <> NEW.status BEGIN
        INSERT INTO execution_counts ({_KEY}, n)
        VALUES (OLD.status, OLD.queue, OLD.workflow, -1), (NEW.status, NEW.queue, NEW.workflow, 1);
    END
    """,
    f"""
    CREATE TRIGGER executions_counted_delete AFTER DELETE ON executions BEGIN
        INSERT INTO execution_counts ({_KEY}, n) VALUES (OLD.status, OLD.queue, OLD.workflow, -1);
    END
    """,
)


def upgrade() -> None:
    op.create_table(
        "execution_counts",
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("queue", sa.String(length=100), nullable=False),
        sa.Column("workflow", sa.String(length=200), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
    )
    postgres = op.get_context().dialect.name == "postgresql"
    if postgres:  # no write may fall between the triggers and the count (SQLite: the migration's lock)
        op.execute("LOCK TABLE executions IN SHARE ROW EXCLUSIVE MODE")
    for statement in _POSTGRES if postgres else _SQLITE:
        op.execute(statement)
    op.execute(
        f"INSERT INTO execution_counts ({_KEY}, n) SELECT {_KEY}, COUNT(*) FROM executions GROUP BY {_KEY}"
    )


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        for what in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER executions_counted_{what} ON executions")
        for what in ("inserted", "updated", "deleted"):
            op.execute(f"DROP FUNCTION execution_counts_{what}()")
    else:
        for what in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER executions_counted_{what}")
    op.drop_table("execution_counts")
