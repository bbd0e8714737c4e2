"""The worker: claims admitted executions, runs their handlers, reports how they ended.

Threads, each with one job:
- the claim loop takes pending work while slots are free, plus as much as this
  worker will finish in the next moment (see `Pace`), and hands it to the pool;
- the pool runs handlers (sync ones directly, async ones in their own event loop,
  `isolation="process"` ones in a child process it can kill);
- the heartbeat loop extends leases and brings back cancel/pause requests;
- the completer writes outcomes in batches, so a busy worker pays one
  transaction for many executions.
Where the work comes from, and where outcomes go, is its WorkSource: the
database (source.DatabaseSource) or a server over HTTP (remote.RemoteSource).
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import queue
import secrets
import socket
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from conveyor import __version__
from conveyor.core.clock import Clock, SystemClock
from conveyor.core.errors import DatabaseUnavailable
from conveyor.core.model import ErrorInfo, Execution, Status, WorkerInfo
from conveyor.core.outcomes import Ending, Outcome
from conveyor.core.ports import Store
from conveyor.worker.context import (
    CancelRequested,
    Context,
    ExecutionFacts,
    PauseRequested,
)
from conveyor.worker.pace import Pace
from conveyor.worker.registry import App, WorkflowDef
from conveyor.worker.source import DatabaseSource, WorkSource

log = logging.getLogger("conveyor.worker")

PROGRESS_FLUSH_SECONDS = 0.25
BATCH_WAIT_SECONDS = 0.002


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    concurrency: int = 8
    queues: tuple[str, ...] = ("default",)
    lease_seconds: float = 30.0
    #: Longest sleep of an idle claim loop when nothing in this process signals new work.
    poll_interval: float = 0.05
    #: Seconds to let running handlers finish on shutdown before leaving them to lease expiry.
    shutdown_grace: float = 10.0

    #: How often held executions are checked for cancel/pause requests (a cheap read).
    watch_interval: float = 0.1

    #: Most executions claimed ahead of free slots. A worker claims ahead only what it finishes
    #: in `prefetch_horizon` seconds at its recent pace: short executions are claimed many per
    #: transaction, while long ones are never hoarded (0 turns claiming ahead off).
    prefetch: int = 100
    prefetch_horizon: float = 0.1

    @property
    def heartbeat_interval(self) -> float:
        return min(self.lease_seconds / 3, 1.0)


@dataclass(eq=False)
class Running:
    """What the worker knows of one execution it holds.

    `execution` is the worker's copy: as claimed, plus the progress and state the worker
    itself wrote since. While the row is unchanged by others, the final write applies to
    this copy without reading the row again (see Store.execution_finish).
    """

    execution: Execution
    workflow: WorkflowDef | None  # None: this worker does not have the workflow's code
    started: float | None = None  # monotonic time its handler began; None while it waits for a slot
    request: str | None = None  # cancel | pause | kill, from the heartbeat
    lost: bool = False  # no longer ours: force-cancelled, deleted or reaped
    finished: threading.Event = field(default_factory=threading.Event)
    timed_out: bool = False
    last_progress_flush: float = 0.0
    pending_progress: tuple[int | None, int | None] | None = None
    last_state_save: float = 0.0


class InlineChannel:
    """A context's channel when the handler runs in this process: straight to the store, throttled."""

    def __init__(self, worker: Worker, run: Running) -> None:
        self._worker = worker
        self._run = run

    def report_progress(self, finished: int | None, total: int | None) -> None:
        run = self._run
        run.pending_progress = (finished, total)
        now = time.monotonic()
        if now - run.last_progress_flush >= PROGRESS_FLUSH_SECONDS or (
            finished is not None and finished == total
        ):
            self._worker.flush_progress(run)

    def report_message(self, text: str, level: str, kind: str) -> None:
        if self._run.lost:
            return  # force-cancelled: later reports are discarded
        self._worker.source.message(self._run.execution.id, text, level, kind)

    def save_state(self, state: dict[str, Any]) -> None:
        run = self._run
        now = time.monotonic()
        if now - run.last_state_save < PROGRESS_FLUSH_SECONDS:
            return  # the final outcome writes the state anyway
        run.last_state_save = now
        if self._worker.source.progress(run.execution.id, None, None, state):
            run.execution = run.execution.evolve(state=state)

    def requested(self) -> str | None:
        run = self._run
        if run.lost or run.timed_out or run.request in ("cancel", "kill"):
            return "cancel"
        return run.request


class Worker:
    def __init__(
        self,
        source: WorkSource,
        app: App,
        settings: WorkerSettings | None = None,
        *,
        clock: Clock | None = None,
        worker_id: str | None = None,
        transport: str = "database",
    ) -> None:
        self.source = source
        self.transport = transport
        self.app = app
        self.settings = settings or WorkerSettings()
        self.clock = clock or SystemClock()
        self.worker_id = worker_id or new_worker_id()
        self._running: dict[str, Running] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()  # no more claims
        self._halt = threading.Event()  # threads exit
        self._slot_freed = threading.Event()
        self._outcomes: queue.SimpleQueue[tuple[Running, Outcome] | None] = queue.SimpleQueue()
        self._pool = ThreadPoolExecutor(self.settings.concurrency, thread_name_prefix="conveyor-handler")
        self._pace = Pace()
        self._threads: list[threading.Thread] = []

    @classmethod
    def on_store(
        cls,
        store: Store,
        app: App,
        settings: WorkerSettings | None = None,
        *,
        clock: Clock | None = None,
        worker_id: str | None = None,
    ) -> Worker:
        """A worker that reaches the database itself (one machine, or a trusted network)."""
        settings = settings or WorkerSettings()
        clock = clock or SystemClock()
        source = DatabaseSource(store, clock, queues=settings.queues, lease_seconds=settings.lease_seconds)
        return cls(source, app, settings, clock=clock, worker_id=worker_id)

    # --- lifecycle ----------------------------------------------------------------

    def start(self) -> None:
        """Register this worker and its workflows, and start its threads; returns at once."""
        now = self.clock.now()
        s = self.settings
        self.worker_id = self.source.register(WorkerInfo(
            id=self.worker_id, name=self.worker_id.rsplit(":", 1)[0], host=socket.gethostname(),
            queues=s.queues, workflows=tuple(sorted(self.app.workflows)), concurrency=s.concurrency,
            transport=self.transport, started_at=now, last_seen_at=now, version=__version__,
        ), self.app.all())  # fmt: skip
        for target, name in (
            (self._claim_loop, "claim"), (self._heartbeat_loop, "heartbeat"), (self._completer, "completer"),
        ):  # fmt: skip
            t = threading.Thread(target=target, name=f"conveyor-{name}", daemon=True)
            t.start()
            self._threads.append(t)
        log.info("worker %s started: queues %s, concurrency %d", self.worker_id,
                 ",".join(self.settings.queues), self.settings.concurrency)  # fmt: skip

    def stop(self, grace: float | None = None) -> None:
        """Stop claiming, give running handlers `grace` seconds, then stop the threads."""
        grace = self.settings.shutdown_grace if grace is None else grace
        self._stop.set()
        self.source.wake()
        deadline = time.monotonic() + grace
        # A claim in flight (an HTTP worker's long poll) may still bring work: it is run, not dropped.
        for t in self._threads:
            if t.name == "conveyor-claim":
                t.join(timeout=max(grace, 0.0) + 10)
        self._release_unstarted()
        while self.held() and time.monotonic() < deadline:
            time.sleep(0.02)
        self._halt.set()
        self._outcomes.put(None)
        for t in self._threads:
            t.join(timeout=5)
        self._pool.shutdown(wait=False, cancel_futures=True)
        try:
            self.source.deregister()
        except Exception as exc:  # the server or database may be gone: the record then reads "lost"
            log.warning("could not deregister worker %s: %s", self.worker_id, exc)

    def _release_unstarted(self) -> None:
        """Hand back what was claimed ahead and never started: another worker runs it now, rather
        than after this worker's leases run out."""
        with self._lock:
            waiting = [r for r in self._running.values() if r.started is None and not r.finished.is_set()]
            for run in waiting:
                run.finished.set()
        for run in waiting:
            self._outcomes.put((run, Outcome(Ending.RELEASED)))

    def held(self) -> list[str]:
        with self._lock:
            return list(self._running)

    def run_forever(self) -> None:
        self.start()
        try:
            self._stop.wait()
        finally:
            self.stop()

    # --- claiming -----------------------------------------------------------------

    def _wanted(self) -> tuple[int, int]:
        """(how many to claim now, how many to hold at most): free slots, plus what this
        worker will finish within the prefetch horizon at its recent pace."""
        s = self.settings
        # Rounded down: a worker that finishes less than one execution per horizon claims none ahead.
        ahead = min(s.prefetch, math.floor(self._pace.per_second() * s.prefetch_horizon))
        most = s.concurrency + ahead
        return most - len(self._running), most

    def _claim_loop(self) -> None:
        s = self.settings
        while not self._stop.is_set():
            try:
                wanted, most = self._wanted()
                # While busy, let a few slots free up so one claim transaction serves several executions.
                if 0 < wanted < max(1, most // 4) and self._running:
                    self._slot_freed.wait(BATCH_WAIT_SECONDS)
                    self._slot_freed.clear()
                    wanted, most = self._wanted()
                if wanted <= 0:
                    self._slot_freed.wait(s.poll_interval)
                    self._slot_freed.clear()
                    continue
                for ex in self.source.claim(wanted, wait=s.poll_interval):
                    self._launch(ex)
            except DatabaseUnavailable as exc:  # an outage, not a bug: one line, then try again
                log.warning("claim loop: %s", exc.message)
                self._stop.wait(1.0)
            except Exception:
                log.exception("claim loop error; retrying")
                self._stop.wait(1.0)

    def _launch(self, ex: Execution) -> None:
        run = Running(ex, self.app.workflows.get(ex.workflow))
        with self._lock:
            self._running[ex.id] = run
        if run.workflow is None:  # claimed by its queue, but this worker lacks the code
            err = ErrorInfo("UnknownWorkflow", f"worker {self.worker_id} has no workflow {ex.workflow!r}")
            self._complete(run, Outcome.failed(err))
            return
        self._pool.submit(self._execute, run)

    # --- running ------------------------------------------------------------------

    def _facts(self, ex: Execution) -> ExecutionFacts:
        return ExecutionFacts(
            ex.id, ex.workflow, ex.attempt, ex.max_attempts, ex.target, ex.dry_run, ex.parameters, ex.state
        )

    def _execute(self, run: Running) -> None:
        ex, wf = run.execution, run.workflow
        assert wf is not None
        if run.finished.is_set():
            return  # ended while it waited for a slot (lost, timed out, killed)
        if run.lost or run.request is not None:  # asked to stop before it began: stop without running
            self._complete(run, Outcome(Ending.PAUSED if run.request == "pause" else Ending.CANCELLED))
            return
        with self._lock:  # not while a stopping worker hands back what has not started
            if run.finished.is_set():
                return
            run.started = time.monotonic()
        try:
            if wf.info.isolation == "process":
                from conveyor.worker.process import run_in_child

                outcome = run_in_child(self, run, self._facts(ex))
            else:
                ctx = Context(self._facts(ex), InlineChannel(self, run))
                outcome = self._call_inline(run, wf, ctx)
        except Exception as exc:  # a bug of ours, not the handler's: record it rather than lose the work
            log.exception("worker failed running %s", ex.id)
            outcome = Outcome.failed(ErrorInfo(type(exc).__name__, str(exc), traceback.format_exc()))
        self._complete(run, outcome)

    def _call_inline(self, run: Running, wf: WorkflowDef, ctx: Context) -> Outcome:
        try:
            params = wf.parse(run.execution.parameters)
            result = asyncio.run(wf.func(ctx, params)) if wf.is_async else wf.func(ctx, params)
        except CancelRequested:
            return self._cancelled_or_timed_out(run)
        except PauseRequested:
            return _with_progress(ctx, Outcome(Ending.PAUSED, state=ctx.state))
        except Exception as exc:
            err = ErrorInfo(type(exc).__name__, str(exc), traceback.format_exc())
            return _with_progress(ctx, Outcome.failed(err, state=ctx.state))
        if run.timed_out:
            return self._cancelled_or_timed_out(run)
        return _with_progress(ctx, Outcome(Ending.SUCCEEDED, result=result))

    def _cancelled_or_timed_out(self, run: Running) -> Outcome:
        if run.timed_out:
            return Outcome.failed(_timeout_error(run))
        return Outcome(Ending.CANCELLED)

    # --- reporting ----------------------------------------------------------------

    def flush_progress(self, run: Running) -> None:
        if run.pending_progress is None or run.lost:
            return
        finished, total = run.pending_progress
        run.pending_progress = None
        run.last_progress_flush = time.monotonic()
        if self.source.progress(run.execution.id, finished, total, None):
            ex = run.execution
            run.execution = ex.evolve(
                finished_operations=finished if finished is not None else ex.finished_operations,
                total_operations=total if total is not None else ex.total_operations,
            )

    def _complete(self, run: Running, outcome: Outcome) -> None:
        """Hand an outcome to the completer; the first outcome of an execution wins."""
        if run.finished.is_set():
            return
        run.finished.set()
        self._outcomes.put((run, outcome))

    def _completer(self) -> None:
        while True:
            item = self._outcomes.get()
            batch: list[tuple[Running, Outcome]] = []
            stop = item is None
            if item is not None:
                batch.append(item)
            while True:
                try:
                    more = self._outcomes.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                else:
                    batch.append(more)
            if batch:
                self._write_outcomes(batch)
            if stop:
                return

    def _write_outcomes(self, batch: list[tuple[Running, Outcome]]) -> None:
        """Record finished work. Through a database outage it keeps trying until the worker stops:
        nobody can reap a lease while the database is away, and the store applies an outcome only
        while this worker still holds the execution, so a late write is never a wrong one, while
        giving up would turn work that succeeded into WorkerLost."""
        attempt = 0
        while True:
            attempt += 1
            try:
                self.source.finish([(run.execution, outcome) for run, outcome in batch])
                break
            except DatabaseUnavailable as exc:
                if self._halt.is_set():
                    log.error("stopping: %d outcome(s) not recorded (%s)", len(batch), exc.message)
                    break
                log.warning("recording %d outcome(s): %s", len(batch), exc.message)
                self._halt.wait(min(1.0, 0.2 * attempt))
            except Exception:
                log.exception("could not record %d outcome(s); retry %d", len(batch), attempt)
                if attempt >= 5:
                    break
                time.sleep(0.2 * attempt)
        with self._lock:
            for run, _ in batch:
                self._running.pop(run.execution.id, None)
        self._pace.add(len(batch))
        self._slot_freed.set()

    # --- heartbeat, requests and timeouts ---------------------------------------------

    def _heartbeat_loop(self) -> None:
        """Watch often (a read), renew leases less often (a write)."""
        next_beat = time.monotonic()
        while not self._halt.wait(self.settings.watch_interval):
            try:
                if time.monotonic() >= next_beat:
                    next_beat = time.monotonic() + self.settings.heartbeat_interval
                    self.beat()
                else:
                    self.watch()
            except Exception:
                log.exception("heartbeat failed; retrying")

    def _active_runs(self) -> list[Running]:
        with self._lock:
            return [r for r in self._running.values() if not r.finished.is_set()]

    def watch(self) -> None:
        """Pick up cancel/pause requests and enforce timeouts between heartbeats."""
        runs = self._active_runs()
        if runs:
            self._react(runs, self.source.watch([r.execution.id for r in runs]))

    def beat(self) -> None:
        """Extend leases (and say this worker is alive), pick up requests, enforce timeouts."""
        runs = self._active_runs()
        current = self.source.heartbeat([r.execution.id for r in runs])
        if runs:
            self._react(runs, current)

    def _react(self, runs: list[Running], current: dict[str, Status]) -> None:
        now = time.monotonic()
        for run in runs:
            status = current.get(run.execution.id)
            if status is None:
                run.lost = True
            else:
                run.request = _REQUESTS.get(status)
            isolated = run.workflow is not None and run.workflow.info.isolation == "process"
            timeout = run.execution.timeout
            began = run.started
            if timeout is not None and began is not None and now - began > timeout and not run.timed_out:
                run.timed_out = True
                if not isolated:
                    # A thread cannot be stopped: record the timeout now; whatever the handler
                    # returns later is discarded because the execution is no longer held.
                    self._complete(run, Outcome.failed(_timeout_error(run)))
            if run.started is None and run.request in ("cancel", "pause"):
                # Claimed ahead and not started: honoured now rather than when a slot frees.
                self._complete(run, Outcome(Ending.PAUSED if run.request == "pause" else Ending.CANCELLED))
            elif not isolated and (run.lost or run.request == "kill"):
                # Inline code cannot be killed: it is released now and its later reports are dropped.
                self._complete(run, Outcome(Ending.CANCELLED))


_REQUESTS = {
    Status.CANCELLING: "cancel",
    Status.FORCE_CANCELLING: "cancel",
    Status.KILL_CANCELLING: "kill",
    Status.PAUSING: "pause",
}


def _with_progress(ctx: Context, outcome: Outcome) -> Outcome:
    """The handler's last reported progress, kept with its outcome."""
    if ctx.finished_operations is None and ctx.total_operations is None and not ctx.state:
        return outcome
    return replace(
        outcome, finished_operations=ctx.finished_operations, total_operations=ctx.total_operations,
        state=outcome.state or ctx.state,
    )  # fmt: skip


def _timeout_error(run: Running) -> ErrorInfo:
    return ErrorInfo("Timeout", f"the workflow ran longer than its timeout of {run.execution.timeout:g} s")
