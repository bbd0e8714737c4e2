"""Composition root: the one place that wires concrete parts together.

`serve` runs the API, the background loop and (by default) a worker in one
process; `run_worker` runs only a worker. Both read the same Settings.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from dataclasses import dataclass
from types import FrameType

from conveyor import __version__
from conveyor.config import Settings
from conveyor.core.catalog import ChainedCatalog, StoredCatalog
from conveyor.core.executions import ExecutionService, ServiceSettings
from conveyor.core.model import Role
from conveyor.core.ports import Store
from conveyor.core.schedules import ScheduleService
from conveyor.scheduler.loop import BackgroundLoop
from conveyor.store import open_store
from conveyor.worker.registry import App, load_apps
from conveyor.worker.runner import Worker, WorkerSettings

log = logging.getLogger("conveyor")


def _configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # migration chatter on every start
    logging.getLogger("httpx").setLevel(logging.WARNING)  # an HTTP worker's every request otherwise


@dataclass
class Runtime:
    settings: Settings
    store: Store
    service: ExecutionService
    app: App

    def worker(self) -> Worker:
        s = self.settings
        return Worker.on_store(
            self.store,
            self.app,
            WorkerSettings(concurrency=s.concurrency, queues=s.queues, lease_seconds=s.lease_seconds),
            clock=self.service.clock,
        )


def build(settings: Settings, *, app: App | None = None) -> Runtime:
    """Store, catalog and service for these settings; the App's workflows are registered in the store."""
    registry = app if app is not None else (load_apps(list(settings.apps)) if settings.apps else App())
    store = open_store(settings.database_url, timeout=settings.statement_timeout)
    catalog = ChainedCatalog(registry, StoredCatalog(store.workflow_list))
    service = ExecutionService(
        store,
        catalog,
        settings=ServiceSettings(retention=settings.retention, implicit_targets=settings.implicit_targets),
    )
    if registry.workflows:
        store.workflow_upsert(registry.all())
    return Runtime(settings, store, service, registry)


def auth_mode(settings: Settings) -> str:
    """'open' or 'required'. A server reachable from other machines never runs open."""
    if settings.auth not in ("auto", "required", "open"):
        raise ValueError(f"auth must be auto, required or open, not {settings.auth!r}")
    if settings.auth == "open" and not settings.is_loopback:
        raise ValueError(
            f"refusing to run open on {settings.host}: only a loopback address may run without tokens"
        )
    if settings.auth == "auto":
        return "open" if settings.is_loopback else "required"
    return settings.auth


def _database_kind(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


def serve(settings: Settings) -> None:
    import uvicorn

    from conveyor.api.app import create_app

    _configure_logging()
    mode = auth_mode(settings)
    rt = build(settings)
    schedules = ScheduleService(rt.service)
    api = create_app(
        rt.service,
        auth_mode=mode,
        version=__version__,
        database_kind=_database_kind(settings.database_url),
        schedule_service=schedules,
        max_body_bytes=settings.max_body_bytes,
        lease_seconds=settings.lease_seconds,
    )
    loop = BackgroundLoop(rt.service, schedules=schedules, interval=settings.tick_interval)
    worker = rt.worker() if settings.run_worker and rt.app.workflows else None
    scheme = "https" if settings.tls_cert else "http"
    base = f"{scheme}://{settings.host}:{settings.port}"
    print(
        f"Conveyor {__version__}\n"
        f"  dashboard  {base}/\n"
        f"  API        {base}/api/v1  (OpenAPI: {base}/api/v1/openapi.json, docs: {base}/api/v1/docs)\n"
        f"  database   {settings.database_url}\n"
        f"  workflows  {', '.join(sorted(rt.app.workflows)) or '(none here; workers register theirs)'}\n"
        f"  worker     {'in this process' if worker else 'none in this process'}\n"
        + (
            "  auth       OPEN: anyone who can reach this loopback address acts as admin "
            "(use --auth required and 'conveyor token create' to require tokens)\n"
            if mode == "open"
            else "  auth       bearer tokens required ('conveyor token create --role admin')\n"
        ),
        flush=True,
    )
    server = uvicorn.Server(
        uvicorn.Config(
            api,
            host=settings.host,
            port=settings.port,
            log_level="warning",
            ssl_certfile=settings.tls_cert,
            ssl_keyfile=settings.tls_key,
        )
    )
    fired = schedules.fire_oninit()
    if fired:
        log.info("started %d execution(s) of oninit schedules", fired)
    loop.start()
    if worker:
        worker.start()
    try:
        server.run()
    finally:
        if worker:
            worker.stop()
        loop.stop()
        rt.store.close()


def run_worker(settings: Settings) -> None:
    """A worker process on the database: runs the loaded workflows until SIGTERM/SIGINT."""
    _configure_logging()
    rt = build(settings)
    _need_workflows(rt.app)
    try:
        _run_until_signalled(rt.worker())
    finally:
        rt.store.close()
    sys.exit(0)


def run_http_worker(settings: Settings, url: str, token: str | None) -> None:
    """A worker process on a server's worker protocol: no database access at all."""
    from conveyor.client import Client
    from conveyor.worker.remote import CLAIM_WAIT_SECONDS, RemoteSource

    _configure_logging()
    app = load_apps(list(settings.apps)) if settings.apps else App()
    _need_workflows(app)
    s = settings
    with Client(url, token, timeout=CLAIM_WAIT_SECONDS + 15) as client:
        worker = Worker(
            RemoteSource(client), app,
            WorkerSettings(concurrency=s.concurrency, queues=s.queues, lease_seconds=s.lease_seconds),
            transport="http",
        )  # fmt: skip
        _run_until_signalled(worker)
    sys.exit(0)


def _need_workflows(app: App) -> None:
    if not app.workflows:
        raise SystemExit(
            "error: no workflows loaded; pass --app module (a module that defines a conveyor.App)"
        )


def _run_until_signalled(worker: Worker) -> None:
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    worker.start()
    print(f"worker {worker.worker_id} running {', '.join(sorted(worker.app.workflows))}", flush=True)
    try:
        stop.wait()
    finally:
        worker.stop()


def create_token(settings: Settings, name: str, role: str) -> str:
    """Create an API token directly in the database (bootstrap: the first admin token)."""
    from conveyor.api.auth import create_token as create

    store = open_store(settings.database_url, timeout=settings.statement_timeout)
    try:
        service = ExecutionService(store, StoredCatalog(store.workflow_list))
        _, secret = create(service, name, Role(role))
        return secret
    finally:
        store.close()
