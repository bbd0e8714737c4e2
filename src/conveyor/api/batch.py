"""`POST /batch`: several API calls in one request, run in order, sync or async.

The batch is a client of the API: nothing here knows any other route. A viewer's
`POST /executions` answers 403 in its slot while the batch is 200. The parts:

- batch_models: the request and answer models (the wire format and its limits);
- batch_calls: checking the calls (`parse_calls`) and sending them in order through the
  app in-process (`run_calls`), reused by dialects that map their own batch calls;
- batch_background: `sync=false`, an execution held by this process that runs the calls;
- this module: the route, which picks one of the two and makes the answer idempotent.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from conveyor.api.auth import Viewer
from conveyor.api.batch_background import start_in_background
from conveyor.api.batch_calls import parse_calls, run_calls
from conveyor.api.batch_models import BatchAccepted, BatchBody, BatchOut
from conveyor.api.deps import Service
from conveyor.api.idempotency import Idempotent
from conveyor.api.schemas import COMMON_ERRORS

router = APIRouter(tags=["batch"], responses=COMMON_ERRORS)


def _already_answered() -> Any:  # pragma: no cover - only called when no answer is stored
    raise AssertionError("an idempotent replay ran its producer")


@router.post(
    "/batch",
    response_model=BatchOut,
    responses={
        202: {"model": BatchAccepted, "description": "sync=false: the execution that runs the calls"},
    },
    summary="Run several calls in one request",
    description="Runs `calls` in order, each exactly as if sent on its own by the same caller (the "
    "batch needs the viewer role; each call is checked for its own). A failing call does not stop the "
    "others unless `stop_on_error`. The batch answers 200 whatever its calls answered; each result "
    "holds its call's status and body. With `sync=false` it answers 202 with an execution whose "
    "result, once it succeeds, is that same document. With an `Idempotency-Key`, a repeated batch "
    "gets the first answer, and each mutating call carries a key derived from it.",
)
async def run_batch(
    body: BatchBody,
    request: Request,
    service: Service,
    principal: Viewer,
    idem: Idempotent,
) -> Response:
    calls = parse_calls(body.calls, background=not body.sync)
    key = idem.scoped_key
    if key is not None and await run_in_threadpool(idem.answers.get, key) is not None:
        return await run_in_threadpool(idem.run, 200, _already_answered)  # replays the stored answer
    authorization = request.headers.get("authorization")
    app: FastAPI = request.app
    if body.sync:
        status = 200
        content = await run_calls(
            app, calls, authorization=authorization, stop_on_error=body.stop_on_error, idempotency_key=key
        )
    else:
        status = 202
        content = await start_in_background(
            app,
            service,
            calls,
            created_by=principal.name,
            authorization=authorization,
            stop_on_error=body.stop_on_error,
            idempotency_key=key,
        )
    return await run_in_threadpool(idem.run, status, lambda: content)
