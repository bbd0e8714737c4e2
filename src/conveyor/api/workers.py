"""`/workers`: the worker protocol (register, claim, heartbeat, report, deregister), and the list.

A worker that must not open the database, or runs on another machine or in another
language, works through these routes with a `worker` token (docs/workers.md). It
acts only on what it holds; a report that arrives after the execution left it (a
retry after a timeout, a force-cancel) is answered `accepted: false` and changes
nothing. Send each report batch with an Idempotency-Key, and a retried batch is
answered as the first one was without recording its messages twice.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from conveyor.api.auth import Principal, Viewer, WorkerCaller
from conveyor.api.deps import json_answer
from conveyor.api.idempotency import Idempotent
from conveyor.api.schemas import COMMON_ERRORS
from conveyor.api.schemas_workers import (
    ClaimBody,
    HeartbeatBody,
    HeartbeatOut,
    RegisterBody,
    Registered,
    Report,
    ReportsBody,
    ReportsOut,
    WorkerList,
)
from conveyor.api.serialize import execution_doc, iso
from conveyor.core.model import ErrorInfo, Role, WorkflowInfo
from conveyor.core.outcomes import Ending, Outcome
from conveyor.core.workers import WAITING_FOR_WORK, WorkerService, WorkerView

router = APIRouter(tags=["workers"], responses=COMMON_ERRORS)

#: Threads a waiting claim may hold at once, apart from the pool every other request uses.
CLAIM_THREADS = anyio.CapacityLimiter(64)
#: Longest a waiting claim sleeps between looks: it wakes at once when work is written through this
#: server (or, on PostgreSQL, through any process); this bounds the wait for work written elsewhere.
CLAIM_POLL_SECONDS = 0.25


def get_workers(request: Request) -> WorkerService:
    workers: WorkerService = request.app.state.workers
    return workers


Workers = Annotated[WorkerService, Depends(get_workers)]


@router.post("/workers", status_code=201, response_model=Registered, summary="Register a worker")
def register(body: RegisterBody, workers: Workers, caller: WorkerCaller) -> Response:
    declared = [WorkflowInfo(**w.model_dump()) for w in body.workflows]
    me = workers.register(
        body.name, body.host, body.queues, declared, concurrency=body.concurrency, version=body.version,
        labels=body.labels, token_id=_token(caller),
    )  # fmt: skip
    lease = workers.lease_seconds
    return json_answer({"id": me.id, "lease_seconds": lease, "heartbeat_seconds": min(lease / 3, 1.0)}, 201)


@router.get("/workers", response_model=WorkerList, summary="List workers: alive, lost or stopped")
def list_workers(workers: Workers, _: Viewer) -> Response:
    return json_answer({"items": [_worker_doc(v) for v in workers.list()]})


@router.get("/queues", summary="List queues: what waits, since when, and who serves it")
def list_queues(workers: Workers, _: Viewer) -> Response:
    return json_answer({"items": [
        {
            "name": q.name, "by_status": {str(s): n for s, n in q.by_status.items()},
            "waiting": sum(n for s, n in q.by_status.items() if s in WAITING_FOR_WORK),
            "oldest_waiting_at": iso(q.oldest_waiting_at), "workers": q.workers,
        }
        for q in workers.queues()
    ]})  # fmt: skip


@router.post("/workers/{worker_id}/claim", summary="Claim executions, waiting up to `wait` s for some")
async def claim(worker_id: str, body: ClaimBody, workers: Workers, caller: WorkerCaller) -> Response:
    deadline = time.monotonic() + body.wait
    token = _token(caller)
    while True:
        got = await anyio.to_thread.run_sync(
            workers.claim, worker_id, body.limit, token, limiter=CLAIM_THREADS
        )
        if got or time.monotonic() >= deadline:
            # With the checkpoint state a resumed or retried execution starts from.
            return json_answer({"items": [{**execution_doc(e), "state": e.state} for e in got]})
        pause = min(CLAIM_POLL_SECONDS, max(0.0, deadline - time.monotonic()))
        await anyio.to_thread.run_sync(workers.wait_for_work, pause, limiter=CLAIM_THREADS)


@router.post("/workers/{worker_id}/heartbeat", response_model=HeartbeatOut, summary="Renew leases")
def heartbeat(worker_id: str, body: HeartbeatBody, workers: Workers, caller: WorkerCaller) -> Response:
    held = workers.heartbeat(worker_id, body.executions, _token(caller))
    return json_answer({"executions": {i: str(s) for i, s in held.items()}})


@router.post(
    "/workers/{worker_id}/reports", response_model=ReportsOut, summary="Report progress and outcomes"
)
def report(
    worker_id: str, body: ReportsBody, workers: Workers, caller: WorkerCaller, idem: Idempotent
) -> Response:
    def produce() -> dict[str, Any]:
        workers.running(worker_id, _token(caller))
        answers: dict[int, tuple[bool, str | None]] = {}
        endings = [(n, r) for n, r in enumerate(body.reports) if r.kind not in ("progress", "message")]
        for n, r in enumerate(body.reports):
            if r.kind == "progress":
                ok = workers.progress(
                    worker_id, r.execution_id, r.finished_operations, r.total_operations, r.state
                )
                answers[n] = (ok, None)
            elif r.kind == "message":
                answers[n] = (workers.message(worker_id, r.execution_id, r.text, r.level, "message"), None)
        done = workers.finish(worker_id, [(r.execution_id, _outcome(r)) for _, r in endings])
        for (n, _), ex in zip(endings, done, strict=True):
            answers[n] = (ex is not None, str(ex.status) if ex is not None else None)
        return {"items": [
            {"execution_id": r.execution_id, "accepted": answers[n][0], "status": answers[n][1]}
            for n, r in enumerate(body.reports)
        ]}  # fmt: skip

    return idem.run(200, produce)


@router.delete("/workers/{worker_id}", status_code=204, summary="Deregister (the worker is leaving)")
def deregister(worker_id: str, workers: Workers, caller: WorkerCaller) -> Response:
    workers.deregister(worker_id, _token(caller))
    return json_answer(None, 204)


def _token(caller: Principal) -> str | None:
    """The worker token a worker is bound to; None for an admin, who may act for any worker."""
    return caller.token_id if caller.role is Role.WORKER else None


def _outcome(r: Report) -> Outcome:
    error = None
    if r.error is not None:
        error = ErrorInfo(r.error.type, r.error.message, r.error.traceback)
    return Outcome(
        Ending(r.kind), result=r.result, error=error, retryable=r.retryable, state=r.state,
        finished_operations=r.finished_operations, total_operations=r.total_operations,
    )  # fmt: skip


def _worker_doc(v: WorkerView) -> dict[str, Any]:
    w = v.worker
    return {
        "id": w.id, "name": w.name, "host": w.host, "queues": list(w.queues), "workflows": list(w.workflows),
        "concurrency": w.concurrency, "transport": w.transport, "version": w.version, "labels": w.labels,
        "started_at": iso(w.started_at), "last_seen_at": iso(w.last_seen_at), "stopped_at": iso(w.stopped_at),
        "holding": v.holding, "state": "stopped" if w.stopped_at else "alive" if v.alive else "lost",
    }  # fmt: skip
