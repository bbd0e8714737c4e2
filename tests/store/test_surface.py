"""The Store protocol's surface: method names sort by subject, and the SQL store has each of them."""

from __future__ import annotations

import inspect

from conveyor.core.ports import Store
from conveyor.store.sqlstore import SQLStore

SUBJECTS = (
    "execution_group_", "execution_", "event_", "schedule_", "target_group_", "target_", "token_",
    "idempotency_", "workflow_", "worker_", "database_",
)  # fmt: skip
LIFECYCLE = {"close", "wait_for_work", "wake_workers"}


def _methods(cls: type) -> dict[str, object]:
    return {n: f for n, f in inspect.getmembers(cls, inspect.isfunction) if not n.startswith("_")}


def test_every_store_method_is_named_subject_first() -> None:
    names = set(_methods(Store)) - LIFECYCLE
    assert names, "no methods found on the protocol"
    assert not [n for n in names if not n.startswith(SUBJECTS)]


def test_the_sql_store_has_every_method_with_the_protocols_parameters() -> None:
    ours = _methods(SQLStore)
    for name, method in _methods(Store).items():
        assert name in ours, f"SQLStore has no {name}"
        wanted = list(inspect.signature(method).parameters)  # type: ignore[arg-type]
        assert list(inspect.signature(ours[name]).parameters) == wanted, name  # type: ignore[arg-type]


def test_the_sql_store_adds_nothing_public() -> None:
    assert set(_methods(SQLStore)) == set(_methods(Store))
