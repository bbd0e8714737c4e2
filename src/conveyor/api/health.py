"""`/health`: is the server up, which version, which kind of database.

Open to anyone (no token), so load balancers and `conveyor` itself can probe it.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from conveyor.api.schemas import HealthOut

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthOut, summary="Health")
async def health(request: Request) -> HealthOut:
    state = request.app.state
    return HealthOut(status="ok", version=state.version, database=state.database_kind)
