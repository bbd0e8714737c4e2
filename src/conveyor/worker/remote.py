"""An HTTP worker's source of work: a Conveyor server, through the client's worker protocol calls.

`conveyor worker --url ... --token ...` runs the same Python workflows as a database worker, with
no database access and nothing but the client's dependencies. What a database worker does in one
store call is one request here: a claim waits on the server for work (long poll), a heartbeat
renews every lease the worker holds and brings back cancel and pause requests (which `watch`
then answers from, without a request of its own), and outcomes go in batches, each batch under an
Idempotency-Key of its own that its retries reuse, so a batch retried after a lost answer is
recorded once (and a later run of the same execution is not taken for a retry). Progress and
messages are best effort: a handler never fails because one could not be sent.
A server that cannot be reached, or answers 503, is an outage (DatabaseUnavailable): the worker
keeps its results and tries again, as it does through a database outage.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from conveyor.client import Client
from conveyor.client.errors import ConveyorConnectionError, ServerError
from conveyor.client.models import JSON, parse_datetime
from conveyor.core.errors import DatabaseUnavailable
from conveyor.core.model import ErrorInfo, Execution, Status, WorkerInfo, WorkflowInfo
from conveyor.core.outcomes import Outcome

T = TypeVar("T")
log = logging.getLogger("conveyor.worker.remote")

#: Longest a claim waits on the server for work; the worker's claim loop asks again after it
#: (and a stopping worker waits this long at most for the claim in flight).
CLAIM_WAIT_SECONDS = 2.0
#: The most a claim may ask for (docs/workers.md).
CLAIM_LIMIT = 1000
#: Longest error text the protocol takes (longer is cut, not refused).
ERROR_TEXT = 100_000


class RemoteSource:
    def __init__(self, client: Client) -> None:
        self.client = client
        self.worker_id = ""
        self._held: dict[str, Status] = {}  # the last heartbeat's answer
        self._lock = threading.Lock()
        self._batch_keys: dict[frozenset[str], str] = {}  # outcome batches not yet recorded

    def register(self, me: WorkerInfo, workflows: Sequence[WorkflowInfo]) -> str:
        answer = self._call(lambda: self.client.workers.register(
            me.name, host=me.host, queues=me.queues, concurrency=me.concurrency, version=me.version,
            workflows=[_declared(w) for w in workflows],
        ))  # fmt: skip
        self.worker_id = str(answer["id"])
        return self.worker_id

    def claim(self, limit: int, *, wait: float) -> list[Execution]:
        # The server waits for us (a long poll): no busy polling from here, however idle.
        ask = min(limit, CLAIM_LIMIT)
        found = self._call(lambda: self.client.workers.claim(self.worker_id, ask, CLAIM_WAIT_SECONDS))
        got = [_execution(doc) for doc in found]
        with self._lock:
            self._held.update((e.id, e.status) for e in got)
        return got

    def wake(self) -> None:
        """Nothing to interrupt: a waiting claim returns within CLAIM_WAIT_SECONDS."""

    def watch(self, execution_ids: Sequence[str]) -> dict[str, Status]:
        with self._lock:
            return {i: self._held[i] for i in execution_ids if i in self._held}

    def heartbeat(self, execution_ids: Sequence[str]) -> dict[str, Status]:
        held = self._call(lambda: self.client.workers.heartbeat(self.worker_id, execution_ids))
        current = {i: Status(s) for i, s in held.items()}
        with self._lock:  # only what was asked about: a claim may have added more meanwhile
            for i in execution_ids:
                if i in current and i in self._held:  # (not one finished while the answer came back)
                    self._held[i] = current[i]
                else:
                    self._held.pop(i, None)
        return current

    def finish(self, outcomes: Sequence[tuple[Execution, Outcome]]) -> None:
        reports = [_report(ex.id, o) for ex, o in outcomes]
        batch = frozenset(ex.id for ex, _ in outcomes)
        key = self._batch_keys.setdefault(batch, uuid.uuid4().hex)  # the same for this batch's retries
        self._call(lambda: self.client.workers.report(self.worker_id, reports, idempotency_key=key))
        self._batch_keys.pop(batch, None)
        with self._lock:
            for ex, _ in outcomes:
                self._held.pop(ex.id, None)

    def progress(self, execution_id: str, finished: int | None, total: int | None, state: Any) -> bool:
        report = {"execution_id": execution_id, "kind": "progress", "finished_operations": finished,
                  "total_operations": total, "state": _plain(state)}  # fmt: skip
        try:
            (answer,) = self.client.workers.report(self.worker_id, [report])
        except Exception as exc:  # best effort: the final report carries the last progress anyway
            log.warning("progress of %s not sent: %s", execution_id, exc)
            return True
        return bool(answer["accepted"])

    def message(self, execution_id: str, text: str, level: str, kind: str) -> None:
        report = {"execution_id": execution_id, "kind": "message", "text": text[:ERROR_TEXT], "level": level}
        try:
            self.client.workers.report(self.worker_id, [report])
        except Exception as exc:  # best effort: a handler does not fail for a lost message
            log.warning("message of %s not sent: %s", execution_id, exc)

    def deregister(self) -> None:
        self._call(lambda: self.client.workers.deregister(self.worker_id))

    def _call(self, call: Callable[[], T]) -> T:
        try:
            return call()
        except (ConveyorConnectionError, ServerError) as exc:
            raise DatabaseUnavailable(f"the server at {self.client.url} is unavailable: {exc}") from exc


def _declared(w: WorkflowInfo) -> JSON:
    doc = w.to_dict()
    doc.pop("isolation", None)  # how this worker runs it is its own business
    return doc


def _plain(value: Any) -> Any:
    """JSON as the database worker stores it: what JSON cannot hold (dates, decimals) as text."""
    return json.loads(json.dumps(value, default=str))


def _report(execution_id: str, o: Outcome) -> JSON:
    error = None
    if o.error is not None:
        e = o.error
        error = {"type": e.type[:200], "message": e.message[:ERROR_TEXT], "traceback": e.traceback}
    return {
        "execution_id": execution_id, "kind": str(o.ending), "result": _plain(o.result),
        "retryable": o.retryable, "state": _plain(o.state), "finished_operations": o.finished_operations,
        "total_operations": o.total_operations, "error": error,
    }  # fmt: skip


def _execution(doc: JSON) -> Execution:
    """What a worker needs of an execution document to run it, and to recognise it afterwards."""
    created = parse_datetime(doc.get("created_at"))
    assert created is not None
    error = doc.get("error")
    return Execution(
        id=doc["id"], workflow=doc["workflow"], status=Status(doc["status"]), created_at=created,
        parameters=doc.get("parameters") or {}, target=doc.get("target"), queue=doc.get("queue") or "default",
        dry_run=bool(doc.get("dry_run")), attempt=int(doc.get("attempt") or 0),
        max_attempts=int(doc.get("max_attempts") or 1), timeout=doc.get("timeout"),
        worker_id=doc.get("worker_id"), state=doc.get("state"),
        total_operations=doc.get("total_operations"), finished_operations=doc.get("finished_operations"),
        error=ErrorInfo.from_dict(error) if error else None,
    )  # fmt: skip
