"""The store logic shared by SQLite and PostgreSQL: one implementation of `core.ports.Store`.

Every operation runs inside one write transaction (`_tx`) and goes through
the core's pure pieces (`states.transition`, `admission`, `scheduling`). A
dialect subclass (sqlite.py, postgres.py) supplies connections, row-lock
clauses, index hints, admission locks and the wake-up signal for workers;
the SQL is written once, with `?` placeholders. The logic is split by
subject: executions (execution_sql.py), schedules (schedule_sql.py), and targets with
target groups and execution groups (target_sql.py), each building on the one before.
"""

from __future__ import annotations

from conveyor.store.execution_sql import Conn, Cursor
from conveyor.store.sqlbuild import INSERT_EXECUTION
from conveyor.store.target_sql import TargetSQL

__all__ = ["INSERT_EXECUTION", "Conn", "Cursor", "SQLStore"]


class SQLStore(TargetSQL):
    """Executions, schedules, targets and groups on one SQL database; subclassed per dialect."""
