"""Settings from CONVEYOR_* environment variables; command-line flags override them."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from typing import Any

DEFAULT_DATABASE_URL = "sqlite:///conveyor.db"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8321


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    #: auto: open on a loopback address, tokens required elsewhere; required: always tokens;
    #: open: no tokens (refused unless bound to loopback).
    auth: str = "auto"
    #: Seconds a finished execution is kept before the background loop deletes it.
    retention: float = 7 * 24 * 3600.0
    #: Seconds a worker's claim on a running execution lasts without a heartbeat.
    lease_seconds: float = 30.0
    #: Modules (or module:attribute) that define an App with workflows, loaded by serve and worker.
    apps: tuple[str, ...] = ()
    #: How many executions one worker process runs at once.
    concurrency: int = 8
    queues: tuple[str, ...] = ("default",)
    #: Seconds between two rounds of the background loop when nothing wakes it earlier.
    tick_interval: float = 1.0
    #: Whether `serve` also runs a worker in the same process.
    run_worker: bool = True
    #: Create targets on first use instead of refusing executions on unknown ones.
    implicit_targets: bool = False
    #: PEM certificate and key: serve HTTPS (clients such as netapp-ontap default to it).
    tls_cert: str | None = None
    tls_key: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> Settings:
        env = dict(os.environ if env is None else env)
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"CONVEYOR_{f.name.upper()}")
            if raw is None or f.name == "extra":
                continue
            if f.name in ("apps", "queues"):
                values[f.name] = tuple(p.strip() for p in raw.split(",") if p.strip())
            elif f.name in ("port", "concurrency"):
                values[f.name] = int(raw)
            elif f.name in ("retention", "lease_seconds", "tick_interval"):
                values[f.name] = float(raw)
            elif f.name in ("run_worker", "implicit_targets"):
                values[f.name] = raw.strip().lower() in ("1", "true", "yes", "on")
            else:
                values[f.name] = raw
        if "CONVEYOR_DATABASE_URL" not in env and "CONVEYOR_DATABASE" in env:
            values["database_url"] = env["CONVEYOR_DATABASE"]
        settings = cls(**values)
        return replace(settings, **{k: v for k, v in overrides.items() if v is not None})

    @property
    def is_loopback(self) -> bool:
        return is_loopback_host(self.host)


def is_loopback_host(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
