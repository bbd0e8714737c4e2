"""The application factory for the native REST API.

`create_app` takes a ready ExecutionService and nothing concrete: server.py
(the composition root) builds the store and catalog and decides the auth mode
(see `auth.resolve_auth_mode`). Dialects and the UI mount their own routers on
the returned app; everything native lives under `/api/v1`.
"""

from __future__ import annotations

from importlib import metadata

from fastapi import FastAPI

from conveyor.api import (
    actions,
    batch,
    events,
    executions,
    groups,
    health,
    schedules,
    targets,
    tokens,
    workers,
    workflows,
)
from conveyor.api.auth import AUTH_MODES, Authenticator
from conveyor.api.errors import install_error_handlers, method_index
from conveyor.api.guard import DEFAULT_MAX_BODY_BYTES, RequestGuard
from conveyor.core.executions import ExecutionService
from conveyor.core.groups import ExecutionGroupService
from conveyor.core.idempotency import IdempotencyService
from conveyor.core.schedules import ScheduleService
from conveyor.core.targets import TargetService
from conveyor.core.tokens import TokenService
from conveyor.core.workers import WorkerService
from conveyor.dialects import cloudify, jelastic, ontap
from conveyor.ui import router as ui_router

API_PREFIX = "/api/v1"


def _installed_version() -> str:
    try:
        return metadata.version("conveyor")
    except metadata.PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0+unknown"


def create_app(
    service: ExecutionService,
    *,
    auth_mode: str = "open",
    version: str | None = None,
    database_kind: str = "sqlite",
    token_cache_ttl: float = 5.0,
    stream_poll_interval: float = 0.2,
    stream_keepalive: float = 15.0,
    schedule_service: ScheduleService | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    lease_seconds: float = 30.0,
) -> FastAPI:
    """Build the API over `service`.

    auth_mode: "open" (no token needed; anonymous callers act as admin, a token
    that is sent is still checked) or "required" (every route but /health needs one).
    schedule_service: the ScheduleService `/schedules` uses; one over `service` when not given.
    max_body_bytes: the largest request body accepted (413 `payload_too_large` above it).
    lease_seconds: how long an HTTP worker's claim lasts without a heartbeat.
    """
    if auth_mode not in AUTH_MODES:
        raise ValueError(f"auth_mode must be one of {AUTH_MODES}, not {auth_mode!r}")
    version = version or _installed_version()
    app = FastAPI(
        title="Conveyor",
        version=version,
        description="Runs workflows as executions: start, follow, cancel, pause, resume. "
        'Errors are `{"error": {"code", "message", "details"}}`.',
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=f"{API_PREFIX}/docs/oauth2-redirect",
    )
    app.state.service = service
    app.state.schedules = schedule_service or ScheduleService(service)
    app.state.targets = TargetService(service.store, service.clock)
    app.state.groups = ExecutionGroupService(service, app.state.targets)
    app.state.auth_mode = auth_mode
    app.state.tokens = TokenService(service.store, service.clock)
    app.state.idempotency = IdempotencyService(service.store, service.clock)
    app.state.authenticator = Authenticator(app.state.tokens, auth_mode, ttl=token_cache_ttl)
    app.state.workers = WorkerService(service.store, service.clock, lease_seconds=lease_seconds)
    app.state.version = version
    app.state.database_kind = database_kind
    app.state.stream_poll_interval = stream_poll_interval
    app.state.stream_keepalive = stream_keepalive
    install_error_handlers(app)
    app.add_middleware(RequestGuard, max_body_bytes=max_body_bytes)
    routers = [
        m.router
        for m in (
            health,
            workflows,
            executions,
            actions,
            events,
            tokens,
            batch,
            schedules,
            targets,
            groups,
            workers,
        )
    ]
    for router in routers:
        app.include_router(router, prefix=API_PREFIX)
    app.state.method_index = method_index(API_PREFIX, routers)
    for dialect in (cloudify, ontap, jelastic):  # each answers in its own wire format under its own prefix
        app.include_router(dialect.router)
    app.include_router(ui_router)
    return app
