"""Admission is race-free across processes, on both stores.

Several independent store instances share one database: separate SQLiteStore
objects on one file (each with its own writer connection, so they contend on
the file's lock exactly as separate processes do) or separate PostgresStore
objects (each with its own connection pool). Threads released together by a
barrier start, finish and admit executions through them at the same instant;
each scenario runs several rounds so that a race, if there is one, shows.

Besides the outcome of each round, the status events of every execution are
replayed in the order they were written (`seq`): at no point may a system
execution be active together with another, or a target run more than one.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from conveyor.core import states
from conveyor.core.clock import ManualClock
from conveyor.core.errors import ExistingRunningExecution
from conveyor.core.executions import ExecutionService, StartRequest
from conveyor.core.model import ACTIVE, Execution, ExecutionFilter, Status
from conveyor.store.postgres import PostgresStore, connection_url
from conveyor.store.sqlite import SQLiteStore
from conveyor.worker.registry import App
from tests.databases import database

S = Status
T0 = datetime(2026, 3, 1, tzinfo=UTC)
INSTANCES = 4  # store instances ("processes") on one database
THREADS = 16
ROUNDS = 5
DEADLINE = 60.0  # seconds any wait may take before the test fails

APP = App("admission-race")


@APP.workflow("job")
def job(ctx: Any, params: dict[str, Any]) -> None: ...


@APP.workflow("sys", system=True)
def sys_(ctx: Any, params: dict[str, Any]) -> None: ...


@APP.workflow("retry", max_attempts=3)
def retry(ctx: Any, params: dict[str, Any]) -> None: ...


@dataclass
class Cluster:
    stores: list[Any]
    services: list[ExecutionService]
    clock: ManualClock

    def find(self, ids: Sequence[str]) -> dict[str, Execution]:
        page = self.services[0].list(ExecutionFilter(ids=tuple(ids)), limit=1000)
        assert page.next_cursor is None
        return {e.id: e for e in page.items}


@pytest.fixture
def cluster(store_kind: str, tmp_path: Path) -> Iterator[Cluster]:
    with database(store_kind, tmp_path) as url:
        stores: list[Any] = []
        try:
            for _ in range(INSTANCES):
                stores.append(SQLiteStore(url) if store_kind == "sqlite" else PostgresStore(url, pool_size=6))
            clock = ManualClock(T0)
            yield Cluster(stores, [ExecutionService(s, APP, clock=clock) for s in stores], clock)
        finally:
            for s in stores:
                s.close()


# --- helpers ---------------------------------------------------------------------


def together(n: int, action: Callable[[int], object]) -> list[object]:
    """Run action(0) ... action(n-1) on n threads released at the same instant; results or exceptions."""
    barrier = threading.Barrier(n, timeout=DEADLINE)

    def run(i: int) -> object:
        barrier.wait()
        return action(i)

    pool = ThreadPoolExecutor(n)
    try:
        futures = [pool.submit(run, i) for i in range(n)]
        _, stuck = wait(futures, timeout=DEADLINE)
        assert not stuck, f"{len(stuck)} of {n} threads still running after {DEADLINE} s"
        return [f.exception() or f.result() for f in futures]
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def start_together(cluster: Cluster, request: Callable[[int], StartRequest]) -> list[object]:
    """THREADS starts at the same instant, spread over the store instances."""
    return together(THREADS, lambda i: cluster.services[i % INSTANCES].start(request(i)))


def no_errors(outcomes: list[object]) -> list[object]:
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    if errors:
        raise errors[0]
    return outcomes


def eventually(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {DEADLINE} s waiting for {what}"
        time.sleep(0.005)


def claim_all(cluster: Cluster, store: Any, worker: str = "w1") -> list[Execution]:
    now = cluster.clock.now()
    return list(
        store.execution_claim(worker, ["default"], 1000, now=now, lease_until=now + timedelta(seconds=30))
    )


def succeed(cluster: Cluster, store: Any, execution_id: str, worker: str = "w1") -> Execution | None:
    now = cluster.clock.now()
    step = lambda e: states.transition(e, states.Succeed(now))  # noqa: E731
    (out,) = store.execution_finish([(execution_id, worker, step)], now=now)
    return out


def assert_exclusive(executions: Sequence[Execution], when: str) -> None:
    """A system execution runs alone; a target runs at most one execution (its default limit)."""
    active = [e for e in executions if e.status in ACTIVE]
    if any(e.is_system for e in active):
        assert len(active) == 1, f"{when}: a system execution is active with others: {_show(active)}"
    per_target = Counter(e.target for e in active if e.target is not None)
    crowded = {t: n for t, n in per_target.items() if n > 1}
    assert not crowded, f"{when}: targets with more than one active execution: {crowded}"


def assert_history_exclusive(cluster: Cluster, executions: Sequence[Execution]) -> None:
    """Replay every status change in the order it was written; the rules hold after each one."""
    store = cluster.stores[0]
    changes = sorted(
        (ev.seq, ev.execution_id, Status(ev.data["to"]))
        for e in executions
        for ev in store.event_list(e.id)
        if ev.kind == "status"
    )
    current = {e.id: e for e in executions}
    for seq, execution_id, status in changes:
        current[execution_id] = current[execution_id].evolve(status=status)
        assert_exclusive(list(current.values()), f"after event {seq} ({execution_id} -> {status})")


def _show(executions: Sequence[Execution]) -> str:
    return ", ".join(f"{e.workflow}@{e.target}:{e.status}" for e in executions)


def status_changes(cluster: Cluster, execution_id: str) -> list[str]:
    return [ev.message for ev in cluster.stores[0].event_list(execution_id) if ev.kind == "status"]


# --- (a) refused starts ------------------------------------------------------------


def test_simultaneous_refused_starts_on_one_target_let_exactly_one_through(cluster: Cluster) -> None:
    for r in range(ROUNDS):
        target = f"a{r}"
        outcomes = start_together(cluster, lambda _, t=target: StartRequest("job", target=t))
        started = [o for o in outcomes if isinstance(o, Execution)]
        refused = [o for o in outcomes if isinstance(o, ExistingRunningExecution)]
        assert len(started) + len(refused) == THREADS, [o for o in outcomes if o not in started + refused]
        assert [e.status for e in started] == [S.PENDING], f"round {r}: {_show(started)}"
        assert len(refused) == THREADS - 1
        stored = cluster.services[0].list(ExecutionFilter(targets=(target,)), limit=100).items
        assert [e.id for e in stored] == [started[0].id], "a refused start left a row behind"
        assert cluster.services[0].count(ExecutionFilter()) == r + 1
        assert status_changes(cluster, started[0].id) == ["created as pending"]


# --- (b) queued starts --------------------------------------------------------------


def test_simultaneous_queued_starts_admit_one_at_a_time_in_creation_order(cluster: Cluster) -> None:
    for r in range(ROUNDS):
        target = f"b{r}"
        outcomes = no_errors(
            start_together(cluster, lambda _, t=target: StartRequest("job", target=t, queue=True))
        )
        started = [o for o in outcomes if isinstance(o, Execution)]
        assert sorted(e.status for e in started) == sorted([S.PENDING] + [S.QUEUED] * (THREADS - 1))
        stored = cluster.find([e.id for e in started])
        assert {e.id: e.status for e in started} == {i: e.status for i, e in stored.items()}
        (running,) = [e for e in started if e.status is S.PENDING]
        waiting = sorted(e.id for e in started if e.status is S.QUEUED)  # ids sort by creation
        step = 0
        while running is not None:
            assert [e.id for e in claim_all(cluster, cluster.stores[step % INSTANCES])] == [running.id]
            finished_id = running.id

            # One instance finishes the running execution while every other one admits, at once.
            def finish_or_admit(i: int, finished_id: str = finished_id, step: int = step) -> object:
                store = cluster.stores[(step + i) % INSTANCES]
                if i == 0:
                    return succeed(cluster, store, finished_id)
                return store.execution_admit_queued(now=cluster.clock.now())

            no_errors(together(INSTANCES, finish_or_admit))
            now = cluster.find([e.id for e in started])
            assert now[finished_id].status is S.SUCCEEDED
            pending = [e.id for e in now.values() if e.status is S.PENDING]
            if waiting:
                assert pending == [waiting[0]], (
                    f"round {r}, step {step}: admitted {pending}, not {waiting[0]}"
                )
                running = now[waiting.pop(0)]
            else:
                assert pending == []
                running = None
            step += 1
        final = cluster.find([e.id for e in started])
        assert {e.status for e in final.values()} == {S.SUCCEEDED}
        for e in final.values():
            assert Counter(status_changes(cluster, e.id))["queued -> pending"] <= 1
        assert_history_exclusive(cluster, list(final.values()))


# --- (c) a system workflow among ordinary ones ----------------------------------------


def test_a_system_execution_never_runs_alongside_another(cluster: Cluster) -> None:
    for r in range(ROUNDS):

        def request(i: int, r: int = r) -> StartRequest:
            if i % 4 == 0:
                return StartRequest("sys", queue=True)
            return StartRequest("job", target=f"c{r}-{i % 3}" if i % 5 else None, queue=True)

        started = [o for o in no_errors(start_together(cluster, request)) if isinstance(o, Execution)]
        ids = [e.id for e in started]
        assert len(ids) == THREADS
        step = 0
        while True:
            now = cluster.find(ids)
            assert_exclusive(list(now.values()), f"round {r}, step {step}")
            if all(e.status is S.SUCCEEDED for e in now.values()):
                break
            pending = sorted(e.id for e in now.values() if e.status is S.PENDING)
            assert pending, (
                f"round {r}, step {step}: work is queued but nothing runs: {_show(list(now.values()))}"
            )
            claimed = claim_all(cluster, cluster.stores[step % INSTANCES])
            assert sorted(e.id for e in claimed) == pending

            # Every running execution finishes at once, each through another instance, while
            # the remaining instances admit.
            def finish_or_admit(i: int, claimed: list[Execution] = claimed, step: int = step) -> object:
                store = cluster.stores[(step + i) % INSTANCES]
                if i < len(claimed):
                    return succeed(cluster, store, claimed[i].id)
                return store.execution_admit_queued(now=cluster.clock.now())

            no_errors(together(len(claimed) + INSTANCES, finish_or_admit))
            step += 1
            assert step <= THREADS, f"round {r}: more steps than executions"
        assert_history_exclusive(cluster, list(cluster.find(ids).values()))


# --- (d) two background loops -------------------------------------------------------


def test_two_background_loops_promote_and_reap_each_execution_once(cluster: Cluster) -> None:
    n_scheduled, n_held, batch = 200, 40, 10.0
    clock = cluster.clock
    scheduled = cluster.services[0].start_many(
        [
            StartRequest("job", target=f"d{k % 5}" if k % 2 else None, schedule=T0 + timedelta(seconds=1 + k))
            for k in range(n_scheduled)
        ]
    )
    assert {e.status for e in scheduled} == {S.SCHEDULED}
    held = cluster.services[1].start_many([StartRequest("retry", queue=True) for _ in range(n_held)])
    assert {e.status for e in held} == {S.PENDING}
    for k in range(0, n_held, 10):  # leases running out at different times, while promotions go on
        lease = T0 + timedelta(seconds=5 + 5 * k)
        claimed = cluster.stores[1].execution_claim("gone", ["default"], 10, now=T0, lease_until=lease)
        assert len(claimed) == 10
    held_ids = [e.id for e in held]
    assert {e.status for e in cluster.find(held_ids).values()} == {S.RUNNING}

    stop = threading.Event()
    done: list[list[dict[str, int]]] = [[], []]
    errors: list[BaseException] = []

    def loop(n: int) -> None:  # a background loop of its own "process"
        service = cluster.services[2 + n]
        try:
            while not stop.is_set():
                done[n].append(service.tick())
        except BaseException as exc:  # reported by the test below
            errors.append(exc)

    loops = [threading.Thread(target=loop, args=(n,), name=f"tick-{n}", daemon=True) for n in range(2)]
    for t in loops:
        t.start()
    try:
        store = cluster.stores[0]
        while clock.now() < T0 + timedelta(seconds=n_scheduled + batch):
            now = clock.advance(batch)

            def caught_up(now: datetime = now) -> bool:
                assert not errors, errors
                due = store.execution_next_due_at()
                running = store.execution_list(
                    ExecutionFilter(statuses=(S.RUNNING,)), sort=["id"], limit=1000, cursor=None
                ).items
                expired = [e for e in running if e.lease_expires_at is not None and e.lease_expires_at < now]
                return (due is None or due > now) and not expired

            eventually(caught_up, f"the loops to promote and reap what is due at {now}")
    finally:
        stop.set()
        for t in loops:
            t.join(DEADLINE)
    assert not any(t.is_alive() for t in loops), "a background loop did not stop"
    assert not errors, errors
    assert all(done), "each loop ticked"

    totals = Counter[str]()
    for ticks in done:
        for counts in ticks:
            totals.update(counts)
    assert totals["promoted"] == n_scheduled, "an execution was promoted twice (or missed)"
    assert totals["reaped"] == n_held, "a lease was reaped twice (or missed)"
    for e in scheduled:
        changes = Counter(status_changes(cluster, e.id))
        assert changes["scheduled -> queued"] == 1, f"{e.id}: {status_changes(cluster, e.id)}"
    for e in held:
        changes = Counter(status_changes(cluster, e.id))
        assert changes["running -> queued"] == 1, f"{e.id}: {status_changes(cluster, e.id)}"
    final = cluster.find([e.id for e in scheduled] + held_ids)
    assert not [e for e in final.values() if e.status in (S.SCHEDULED, S.RUNNING)]
    assert_history_exclusive(cluster, list(final.values()))


# --- (e) admission racing a cancel of what it picks (PostgreSQL) --------------------------


def test_admission_racing_a_cancel_of_its_pick_writes_nothing_for_it(tmp_path: Path) -> None:
    """Admission reads queued rows without locking them; a cancel may hold one and win.

    SQLite runs whole write transactions one at a time, so this interleaving exists only on
    PostgreSQL: a cancel holds the queued row (FOR UPDATE) while another process's finish
    admits it; the admitting UPDATE then waits, finds the row cancelled and changes nothing --
    and nothing else may claim that it was admitted.
    """
    with database("postgres", tmp_path) as url:
        name = f"race-finisher-{uuid.uuid4().hex[:12]}"  # to find its connections in pg_stat_activity
        canceller = PostgresStore(url, pool_size=2)
        finisher = PostgresStore(f"{url}&application_name={name}", pool_size=2)
        try:
            clock = ManualClock(T0)
            service = ExecutionService(canceller, APP, clock=clock)
            first = service.start(StartRequest("job", target="t"))
            second = service.start(StartRequest("job", target="t", queue=True))
            assert (first.status, second.status) == (S.PENDING, S.QUEUED)
            (running,) = finisher.execution_claim(
                "w1", ["default"], 10, now=T0, lease_until=T0 + timedelta(seconds=30)
            )
            holding, go = threading.Event(), threading.Event()

            def cancel_slowly(e: Execution) -> Execution:
                holding.set()  # the row is locked by apply's SELECT ... FOR UPDATE
                assert go.wait(DEADLINE)
                return states.transition(e, states.RequestCancel(T0, "cancel"))

            with ThreadPoolExecutor(2) as pool:
                cancelling = pool.submit(canceller.execution_apply, second.id, cancel_slowly, now=T0)
                assert holding.wait(DEADLINE)
                finishing = pool.submit(succeed, Cluster([], [], clock), finisher, running.id)
                try:
                    eventually(lambda: _waits_on_a_lock(url, name), "the finish to wait on the row lock")
                finally:
                    go.set()
                assert cancelling.result(DEADLINE).status is S.CANCELLED
                finishing.result(DEADLINE)
            assert [canceller.execution_get(e.id).status for e in (first, second)] == [
                S.SUCCEEDED,
                S.CANCELLED,
            ]
            changes = [ev.message for ev in canceller.event_list(second.id) if ev.kind == "status"]
            assert changes == ["created as queued", "queued -> cancelled"]
        finally:
            canceller.close()
            finisher.close()


def _waits_on_a_lock(url: str, application_name: str) -> bool:
    with psycopg.connect(connection_url(url), autocommit=True) as conn:
        row = conn.execute(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = %s AND wait_event_type = 'Lock'",
            (application_name,),
        ).fetchone()
    return bool(row and row[0])
