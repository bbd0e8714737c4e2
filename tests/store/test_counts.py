"""Kept counts: whatever happens to executions, the counts the store keeps are the rows' own counts,
before and after folding, from one process or from several at once."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

from conveyor.core import states
from conveyor.core.clock import ManualClock
from conveyor.core.executions import ExecutionService, StartRequest
from conveyor.core.model import ExecutionCounts, ExecutionFilter, Status
from conveyor.core.ports import Store

from .support import LEASE, claim, fail, succeed

S = Status


def _rows_counted(store: Store) -> Counter[tuple[Status, str, str]]:
    """The truth: every execution, read back page by page."""
    out: Counter[tuple[Status, str, str]] = Counter()
    cursor = None
    while True:
        page = store.execution_list(ExecutionFilter(), sort=["id"], limit=500, cursor=cursor)
        out.update((e.status, e.queue, e.workflow) for e in page.items)
        cursor = page.next_cursor
        if cursor is None:
            return out


def _kept(store: Store, **kw: list[str]) -> Counter[tuple[Status, str, str]]:
    return Counter({(s, q, w): n for s, q, w, n in store.execution_counts(**kw)})  # type: ignore[arg-type]


def _mixed_history(service: ExecutionService, store: Store, clock: ManualClock, seed: int) -> None:
    rnd = random.Random(seed)
    for _ in range(4):
        service.start_many([StartRequest(rnd.choice(["job", "io", "flaky"]), target=rnd.choice([None, "t"]))
                            for _ in range(rnd.randint(5, 30))])  # fmt: skip
        held = claim(store, clock, limit=rnd.randint(1, 20)) + claim(store, clock, queues=["io"], limit=5)
        for ex in held:
            rnd.choice([succeed, fail])(store, clock, ex)
        for ex in store.execution_list(
            ExecutionFilter(statuses=(S.PENDING,)), sort=["id"], limit=3, cursor=None
        ).items:
            service.cancel(ex.id)
        clock.advance(rnd.choice([1.0, LEASE + 1.0]))
        service.tick()


def test_kept_counts_are_the_rows_counts_through_starts_claims_ends_cancels_and_retries(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    _mixed_history(service, store, clock, seed=7)
    truth = _rows_counted(store)
    assert sum(truth.values()) > 50
    assert _kept(store) == truth
    assert store.execution_counts_fold() >= 0
    assert _kept(store) == truth  # folding changes no count
    assert store.execution_counts_fold() == len(truth)  # ...and leaves one row per key


def test_deleted_executions_leave_the_counts(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    started = [service.start(StartRequest("brief")) for _ in range(5)]
    for ex in claim(store, clock):
        succeed(store, clock, ex)
    assert _kept(store)[S.SUCCEEDED, "default", "brief"] == 5
    clock.advance(3600)
    service.tick()  # retention (60 s for "brief") deletes them
    assert all(store.execution_get(e.id) is None for e in started)
    assert _kept(store)[S.SUCCEEDED, "default", "brief"] == 0


def test_the_service_answers_every_count_of_a_dashboard_at_once(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    for _ in range(3):
        service.start(StartRequest("job", target="t", queue=True))  # one at a time on t: 1 pending, 2 queued
    service.start(StartRequest("io"))
    (ex,) = claim(store, clock)
    succeed(store, clock, ex)  # the next one on t is admitted

    every = service.counts()
    assert isinstance(every, ExecutionCounts)
    assert every.total == 4 and set(every.by_status) == set(Status)
    assert (every.by_status[S.PENDING], every.by_status[S.QUEUED], every.by_status[S.SUCCEEDED]) == (2, 1, 1)
    assert every.by_status[S.FAILED] == 0
    assert every.by_queue == {"default": {S.PENDING: 1, S.QUEUED: 1, S.SUCCEEDED: 1}, "io": {S.PENDING: 1}}
    assert every.by_workflow["io"] == {S.PENDING: 1}
    assert service.counts(workflows=["io"]).total == 1
    on_t = service.counts(targets=["t"])
    assert (on_t.total, on_t.by_status[S.QUEUED]) == (3, 1)
    # The filtered count the dashboard's chips ask for comes from the same kept counts.
    assert service.count(ExecutionFilter(statuses=(S.PENDING, S.SUCCEEDED), workflows=("job",))) == 2


def test_counts_stay_exact_while_several_stores_write_and_fold_at_once(
    service: ExecutionService, store: Store, store_url: str, open_store: Callable[[str], Store],
    clock: ManualClock,
) -> None:  # fmt: skip
    others = [open_store(store_url) for _ in range(3)]
    service.start_many([StartRequest("job") for _ in range(600)])
    errors: list[BaseException] = []

    def work(s: Store, name: str) -> None:
        try:
            while True:
                now = clock.now()
                got = s.execution_claim(
                    name, ["default"], 25, now=now, lease_until=now + timedelta(seconds=LEASE)
                )
                if not got:
                    return
                step = lambda e, at=now: states.transition(e, states.Succeed(at))  # type: ignore[misc]  # noqa: E731
                s.execution_finish([(e.id, name, step) for e in got], now=now, held={e.id: e for e in got})
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    def fold(s: Store, stop: threading.Event) -> None:
        while not stop.is_set():
            s.execution_counts_fold()

    stop = threading.Event()
    workers = [threading.Thread(target=work, args=(s, f"w{i}")) for i, s in enumerate(others[:2])]
    folder = threading.Thread(target=fold, args=(others[2], stop))
    for t in (*workers, folder):
        t.start()
    for t in workers:
        t.join(timeout=120)
    stop.set()
    folder.join(timeout=30)
    assert not errors
    assert _kept(store) == _rows_counted(store) == Counter({(S.SUCCEEDED, "default", "job"): 600})
