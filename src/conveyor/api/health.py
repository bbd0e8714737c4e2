"""`/health` and `/ready`: is the server up, and can it do its work.

Both are open to anyone (no token), so load balancers, orchestrators and
`conveyor` itself can probe them. `/health` is liveness: it answers while the
process serves requests, whatever the database does (a restart would not help
an outage). `/ready` is readiness: a round trip to the database and its schema
revision; 503 `database_unavailable` or `schema_out_of_date` when it cannot work.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from conveyor.api.schemas import HealthOut, ReadyOut

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthOut, summary="Health")
async def health(request: Request) -> HealthOut:
    state = request.app.state
    return HealthOut(status="ok", version=state.version, database=state.database_kind)


@router.get(
    "/ready",
    response_model=ReadyOut,
    summary="Readiness",
    responses={503: {"description": "The database is unavailable or its schema is out of date."}},
)
async def ready(request: Request) -> ReadyOut:
    state = request.app.state
    revision = await run_in_threadpool(state.service.ready)
    return ReadyOut(
        status="ready", version=state.version, database=state.database_kind, schema_revision=revision
    )
