"""The store logic shared by SQLite and PostgreSQL: one implementation of `core.ports.Store`.

Every operation runs inside one write transaction (`_tx`) and goes through
the core's pure pieces (`states.transition`, `admission`, `scheduling`). A
dialect subclass (sqlite.py, postgres.py) supplies connections, row-lock
clauses, index hints, admission locks and the wake-up signal for workers;
the SQL is written once, with `?` placeholders. The logic is split by
subject: executions (execution_sql.py) and schedules (schedule_sql.py).
"""

from __future__ import annotations

from conveyor.store.execution_sql import Conn, Cursor
from conveyor.store.schedule_sql import ScheduleSQL
from conveyor.store.sqlbuild import INSERT_EXECUTION

__all__ = ["INSERT_EXECUTION", "Conn", "Cursor", "SQLStore"]


class SQLStore(ScheduleSQL):
    """Executions and schedules on one SQL database; subclassed per dialect."""
