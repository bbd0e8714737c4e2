"""Actions on one execution: cancel (three strengths), pause, resume, requeue.

Each is one transition of the state machine in `core.states`, applied by the
store with a compare-and-set; an action the current status does not allow is a
409 `illegal_transition` and changes nothing. Every action answers the
execution as it is afterwards.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from conveyor.api.auth import Operator
from conveyor.api.deps import Service
from conveyor.api.idempotency import Idempotent
from conveyor.api.schemas import COMMON_ERRORS, NOT_FOUND, CancelBody, ExecutionOut, ResumeBody
from conveyor.api.serialize import execution_doc

router = APIRouter(
    tags=["actions"],
    responses={**COMMON_ERRORS, **NOT_FOUND, 409: {"description": "illegal_transition"}},
)


@router.post(
    "/executions/{execution_id}/cancel",
    response_model=ExecutionOut,
    summary="Cancel",
    description="A waiting execution is cancelled at once. A running one: `cancel` asks it to stop at its "
    "next checkpoint, `force` marks it cancelled now, `kill` stops its process.",
)
def cancel(
    execution_id: str, service: Service, _: Operator, idem: Idempotent, body: CancelBody | None = None
) -> Response:
    mode = body.mode if body is not None else "cancel"
    return idem.run(200, lambda: execution_doc(service.cancel(execution_id, mode)))


@router.post("/executions/{execution_id}/force-cancel", response_model=ExecutionOut, summary="Cancel now")
def force_cancel(execution_id: str, service: Service, _: Operator, idem: Idempotent) -> Response:
    return idem.run(200, lambda: execution_doc(service.cancel(execution_id, "force")))


@router.post("/executions/{execution_id}/kill", response_model=ExecutionOut, summary="Kill the process")
def kill(execution_id: str, service: Service, _: Operator, idem: Idempotent) -> Response:
    return idem.run(200, lambda: execution_doc(service.cancel(execution_id, "kill")))


@router.post("/executions/{execution_id}/pause", response_model=ExecutionOut, summary="Pause")
def pause(execution_id: str, service: Service, _: Operator, idem: Idempotent) -> Response:
    return idem.run(200, lambda: execution_doc(service.pause(execution_id)))


@router.post(
    "/executions/{execution_id}/resume",
    response_model=ExecutionOut,
    summary="Resume",
    description="Puts a paused execution back in the queue; a failed or cancelled one is retried.",
)
def resume(
    execution_id: str, service: Service, _: Operator, idem: Idempotent, body: ResumeBody | None = None
) -> Response:
    force = body.force if body is not None else False

    def produce() -> dict[str, Any]:
        return execution_doc(service.resume(execution_id, force=force))

    return idem.run(200, produce)


@router.post(
    "/executions/{execution_id}/requeue",
    response_model=ExecutionOut,
    summary="Requeue a finished execution",
    description="Runs a terminal execution again from the start (e.g. after restoring a backup).",
)
def requeue(execution_id: str, service: Service, _: Operator, idem: Idempotent) -> Response:
    return idem.run(200, lambda: execution_doc(service.requeue(execution_id)))
