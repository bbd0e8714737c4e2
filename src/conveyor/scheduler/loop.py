"""The background loop: the duties no request triggers.

Fires due schedules, promotes scheduled executions when due, reaps expired
leases (the worker died: requeue or fail with WorkerLost), admits queued
work when capacity frees, and deletes executions whose retention has run
out. Each duty is one atomic store operation that skips rows another server
is working on, so every server may run this loop at once.
"""

from __future__ import annotations

import logging
import threading

from conveyor.core.errors import DatabaseUnavailable
from conveyor.core.executions import ExecutionService
from conveyor.core.schedules import ScheduleService

log = logging.getLogger("conveyor.scheduler")


class BackgroundLoop:
    def __init__(
        self, service: ExecutionService, *, schedules: ScheduleService | None = None, interval: float = 1.0
    ) -> None:
        self.service = service
        self.schedules = schedules
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.rounds = 0

    def run_once(self) -> dict[str, int]:
        fired = self.schedules.fire_due() if self.schedules is not None else 0
        done = {"fired": fired, **self.service.tick()}
        self.rounds += 1
        if any(done.values()):
            log.debug("background round: %s", done)
        return done

    def _sleep_seconds(self) -> float:
        """Until the next round, or sooner when a scheduled execution falls due before it."""
        store = self.service.store
        candidates = [store.execution_next_due_at(), store.schedule_next_due_at() if self.schedules else None]
        due = min((d for d in candidates if d is not None), default=None)
        if due is None:
            return self.interval
        wait = (due - self.service.clock.now()).total_seconds()
        return max(0.001, min(self.interval, wait))

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
                pause = self._sleep_seconds()
            except DatabaseUnavailable as exc:  # an outage, not a bug: one line, then try again
                log.warning("background round: %s", exc.message)
                pause = self.interval
            except Exception:
                log.exception("background round failed; trying again")
                pause = self.interval
            self._stop.wait(pause)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="conveyor-background", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
