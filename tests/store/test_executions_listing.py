"""Listing, counting, sorting and paging executions; reading events."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from conveyor.core.clock import ManualClock
from conveyor.core.errors import InvalidRequest
from conveyor.core.executions import ExecutionService, StartRequest
from conveyor.core.ids import new_id
from conveyor.core.model import SORTABLE_FIELDS, Event, Execution, ExecutionFilter, Status
from conveyor.core.ports import Store

from .support import claim, fail, succeed

S = Status


@pytest.fixture
def data(service: ExecutionService, store: Store, clock: ManualClock) -> list[Execution]:
    """A mixed population: ties in every sortable field, nulls in target/started_at/ended_at."""
    rng = random.Random(7)
    for i in range(60):
        clock.advance(rng.choice([0, 0, 1, 2.5]))  # several share a created_at
        req = StartRequest(
            rng.choice(["job", "brief", "flaky", "io"]),
            target=rng.choice([None, "a", "b", "c", "d"]),
            priority=rng.choice([0, 0, 1, 5, -1]),
            created_by=rng.choice(["alice", "bob", None]),
            dry_run=rng.random() < 0.3,
            queue=True,
            schedule=clock.now() + timedelta(hours=1) if i % 11 == 0 else None,
        )
        service.start(req)
        if i % 4 == 3:
            clock.advance(rng.choice([0, 1]))
            for ex in claim(store, clock, limit=2):
                clock.advance(rng.choice([0, 3]))
                if rng.random() < 0.7:
                    (succeed if rng.random() < 0.6 else fail)(store, clock, ex)
    service.start(StartRequest("sys", queue=True))
    everything = store.execution_list(ExecutionFilter(), sort=["id"], limit=1000, cursor=None).items
    assert len(everything) == 61
    assert len({e.status for e in everything}) >= 5
    return everything


def value(ex: Execution, name: str) -> Any:
    """The value a sort compares: an absent target, start or end sorts first (as '' or 0).

    created_at sorts by id: UUIDv7 ids are in creation order, and the primary key serves it.
    """
    if name == "created_at":
        return ex.id
    raw = getattr(ex, name)
    if name in ("started_at", "ended_at"):
        return raw.timestamp() if raw is not None else 0
    if name == "target":
        return raw or ""
    if name == "status":
        return str(raw)
    return raw


def expected_order(items: list[Execution], sort: list[str]) -> list[str]:
    keys: list[tuple[str, bool]] = []
    for part in ",".join(sort).split(","):
        part = part.strip()
        if part:
            keys.append((part.lstrip("+-"), part.startswith("-")))
    if not keys:
        keys = [("id", True)]
    if all(name != "id" for name, _ in keys):
        keys.append(("id", keys[0][1]))  # ties are broken by id, in the first key's direction
    out = list(items)
    for name, desc in reversed(keys):
        out.sort(key=lambda e, n=name: value(e, n), reverse=desc)  # type: ignore[misc]
    return [e.id for e in out]


def page_through(store: Store, flt: ExecutionFilter, sort: list[str], limit: int) -> list[str]:
    ids: list[str] = []
    cursor = None
    for _ in range(1000):
        page = store.execution_list(flt, sort=sort, limit=limit, cursor=cursor)
        assert len(page.items) <= limit
        ids.extend(e.id for e in page.items)
        cursor = page.next_cursor
        if cursor is None:
            return ids
        assert len(page.items) == limit
    raise AssertionError("paging never ended")


SORTS = [
    *([f] for f in SORTABLE_FIELDS),
    *([f"-{f}"] for f in SORTABLE_FIELDS),
    ["+created_at"],
    ["status", "-created_at"],
    ["-priority", "workflow", "id"],
    ["target", "-started_at"],
    ["-ended_at,priority"],
    ["workflow", "-id"],
    ["-status", "target", "priority"],
    ["-target", "ended_at", "-workflow"],
    [],
]


def test_every_sortable_field_is_supported() -> None:
    fields = {"id", "created_at", "status", "workflow", "target", "priority", "ended_at", "started_at"}
    assert set(SORTABLE_FIELDS) == fields


@pytest.mark.parametrize("sort", SORTS, ids=lambda s: ",".join(s) or "default")
def test_sorting_and_cursor_paging_return_every_row_once_in_order(
    store: Store, data: list[Execution], sort: list[str]
) -> None:
    want = expected_order(data, sort)
    full = store.execution_list(ExecutionFilter(), sort=sort, limit=1000, cursor=None)
    assert [e.id for e in full.items] == want
    assert full.next_cursor is None
    for limit in (1, 7, 60, 61):
        assert page_through(store, ExecutionFilter(), sort, limit) == want


def test_the_default_order_is_newest_first(store: Store, data: list[Execution]) -> None:
    assert [
        e.id for e in store.execution_list(ExecutionFilter(), sort=[], limit=1000, cursor=None).items
    ] == sorted((e.id for e in data), reverse=True)


Case = tuple[ExecutionFilter, Callable[[Execution], bool]]
#: Each filter, and the rows it must keep, given the data set.
FILTERS: dict[str, Callable[[list[Execution]], Case]] = {
    "status": lambda d: (
        ExecutionFilter(statuses=(S.QUEUED, S.SUCCEEDED)),
        lambda e: e.status in (S.QUEUED, S.SUCCEEDED),
    ),
    "workflow": lambda d: (ExecutionFilter(workflows=("flaky",)), lambda e: e.workflow == "flaky"),
    "target": lambda d: (ExecutionFilter(targets=("a", "c")), lambda e: e.target in ("a", "c")),
    "queue": lambda d: (ExecutionFilter(queues=("io",)), lambda e: e.queue == "io"),
    "created_by": lambda d: (ExecutionFilter(created_by=("alice",)), lambda e: e.created_by == "alice"),
    "is_system": lambda d: (ExecutionFilter(is_system=True), lambda e: e.is_system),
    "not_system": lambda d: (ExecutionFilter(is_system=False), lambda e: not e.is_system),
    "dry_run": lambda d: (ExecutionFilter(dry_run=True), lambda e: e.dry_run),
    "ids": lambda d: (
        ExecutionFilter(ids=(d[3].id, d[10].id, "nope")),
        lambda e: e.id in (d[3].id, d[10].id),
    ),
    "created_after": lambda d: (
        ExecutionFilter(created_after=d[20].created_at),
        lambda e: e.created_at >= d[20].created_at,
    ),
    "created_before": lambda d: (
        ExecutionFilter(created_before=d[20].created_at),
        lambda e: e.created_at < d[20].created_at,
    ),
    "combined": lambda d: (
        ExecutionFilter(workflows=("job", "brief"), targets=("a", "b"), dry_run=False),
        lambda e: e.workflow in ("job", "brief") and e.target in ("a", "b") and not e.dry_run,
    ),
}


@pytest.mark.parametrize("name", list(FILTERS))
def test_filters_list_and_count_the_same_rows(store: Store, data: list[Execution], name: str) -> None:
    flt, keep = FILTERS[name](data)
    want = [e for e in data if keep(e)]
    assert want, "the data set should exercise this filter"
    assert len(want) < len(data)
    assert [e.id for e in store.execution_list(flt, sort=["id"], limit=1000, cursor=None).items] == [
        e.id for e in want
    ]
    assert store.execution_count(flt) == len(want)
    assert page_through(store, flt, ["-created_at"], 4) == expected_order(want, ["-created_at"])


def test_time_window_filters(store: Store, data: list[Execution]) -> None:
    lo, hi = data[10].created_at, data[40].created_at
    flt = ExecutionFilter(created_after=lo, created_before=hi)
    want = [e.id for e in data if lo <= e.created_at < hi]
    assert [e.id for e in store.execution_list(flt, sort=["id"], limit=1000, cursor=None).items] == want
    ended = sorted(e.ended_at for e in data if e.ended_at is not None)
    cut = ended[len(ended) // 2]
    flt = ExecutionFilter(ended_before=cut)
    assert store.execution_count(flt) == sum(1 for e in data if e.ended_at is not None and e.ended_at <= cut)


def test_group_filter(service: ExecutionService, store: Store, clock: ManualClock) -> None:
    group = new_id()
    base = service.start(StartRequest("job"))
    members = [replace(base, id=new_id(), group_id=group, status=S.SCHEDULED, scheduled_for=clock.now())
               for _ in range(3)]  # fmt: skip
    store.execution_start(members, refuse_blocked=False, now=clock.now())
    assert [
        e.id
        for e in store.execution_list(
            ExecutionFilter(group_id=group), sort=["id"], limit=10, cursor=None
        ).items
    ] == [m.id for m in members]
    assert store.execution_count(ExecutionFilter(group_id=group)) == 3
    assert store.execution_count(ExecutionFilter()) == 4


def test_count_without_filters_counts_everything(store: Store, data: list[Execution]) -> None:
    assert store.execution_count(ExecutionFilter()) == len(data)


def test_rows_added_while_paging_newest_first_do_not_repeat_earlier_rows(
    service: ExecutionService, store: Store, data: list[Execution]
) -> None:
    first = store.execution_list(ExecutionFilter(), sort=["-id"], limit=10, cursor=None)
    for _ in range(5):
        service.start(StartRequest("job", queue=True))
    seen = [e.id for e in first.items] + page_through_from(store, first.next_cursor)
    assert len(seen) == len(set(seen)) == len(data)


def page_through_from(store: Store, cursor: str | None) -> list[str]:
    ids: list[str] = []
    while cursor is not None:
        page = store.execution_list(ExecutionFilter(), sort=["-id"], limit=10, cursor=cursor)
        ids.extend(e.id for e in page.items)
        cursor = page.next_cursor
    return ids


def test_unknown_sort_fields_and_foreign_cursors_are_refused(store: Store, data: list[Execution]) -> None:
    with pytest.raises(InvalidRequest) as info:
        store.execution_list(ExecutionFilter(), sort=["parameters"], limit=10, cursor=None)
    assert info.value.details == {"field": "sort"}
    assert "created_at" in info.value.message
    cursor = store.execution_list(ExecutionFilter(), sort=["status", "id"], limit=5, cursor=None).next_cursor
    assert cursor is not None
    for bad in ("garbage!", "bm90IGpzb24=", cursor):
        with pytest.raises(InvalidRequest) as info:
            store.execution_list(ExecutionFilter(), sort=["id"], limit=5, cursor=bad)
        assert info.value.details == {"field": "cursor"}


def test_the_service_bounds_the_page_size(service: ExecutionService) -> None:
    for limit in (0, 1001):
        with pytest.raises(InvalidRequest):
            service.list(ExecutionFilter(), limit=limit)


# --- events ---------------------------------------------------------------------------


def test_events_come_back_in_the_order_they_happened(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    ex = service.start(StartRequest("job"))
    other = service.start(StartRequest("job"))
    (held,) = [e for e in claim(store, clock) if e.id == ex.id]
    clock.advance(1)
    service.message(ex.id, "step 1")
    store.event_add([Event(ex.id, "progress", clock.now(), "1/2", data={"finished": 1, "total": 2})])
    service.message(other.id, "elsewhere")
    service.message(ex.id, "disk low", level="warning", kind="log")
    clock.advance(1)
    succeed(store, clock, held, result=1)
    events = service.events(ex.id)
    assert [(e.kind, e.message) for e in events] == [
        ("status", "created as pending"),
        ("status", "pending -> running"),
        ("message", "step 1"),
        ("progress", "1/2"),
        ("log", "disk low"),
        ("status", "running -> succeeded"),
    ]
    seqs = [e.seq for e in events]
    assert all(isinstance(s, int) for s in seqs)
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == len(seqs)
    assert events[3].data == {"finished": 1, "total": 2}
    assert events[4].level == "warning"
    assert events[1].data == {"from": "pending", "to": "running"}
    assert events[-1].ts == clock.now()
    assert [e.message for e in service.events(ex.id, after=seqs[2])] == [
        "1/2",
        "disk low",
        "running -> succeeded",
    ]
    assert [e.message for e in service.events(ex.id, after=seqs[2], limit=1)] == ["1/2"]
    assert service.events(ex.id, after=seqs[-1]) == []
