"""Settings from CONVEYOR_* environment variables; command-line flags override them.

pydantic-settings reads the variables (prefix `CONVEYOR_`, any case) and converts
and validates them; a bad value raises `ConfigError` naming the variable.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///conveyor.db"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8321
ENV_PREFIX = "CONVEYOR_"

#: A comma-separated list in the environment ("a, b,,c" -> ("a", "b", "c")), a tuple in code.
CommaList = Annotated[tuple[str, ...], NoDecode]


class ConfigError(ValueError):
    """A setting's value is invalid; the message names the variable (or setting) and the value."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, populate_by_name=True)

    #: CONVEYOR_DATABASE_URL; CONVEYOR_DATABASE is read when it is not set.
    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        validation_alias=AliasChoices(f"{ENV_PREFIX}DATABASE_URL", f"{ENV_PREFIX}DATABASE"),
    )
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
    apps: CommaList = ()
    #: How many executions one worker process runs at once.
    concurrency: int = 8
    queues: CommaList = ("default",)
    #: Seconds between two rounds of the background loop when nothing wakes it earlier.
    tick_interval: float = 1.0
    #: Whether `serve` also runs a worker in the same process.
    run_worker: bool = True
    #: Create targets on first use instead of refusing executions on unknown ones.
    implicit_targets: bool = False
    #: The largest request body the API accepts, in bytes (413 payload_too_large above it).
    max_body_bytes: int = Field(1 << 20, ge=1024)
    #: Seconds one database statement may take before it is cancelled (PostgreSQL), or a write may
    #: wait for another process's lock (SQLite), so no single request can hold the server; past it
    #: the call answers 503 database_unavailable.
    statement_timeout: float = Field(15.0, gt=0)
    #: PEM certificate and key: serve HTTPS (clients such as netapp-ontap default to it).
    tls_cert: str | None = None
    tls_key: str | None = None

    @field_validator("apps", "queues", mode="before")
    @classmethod
    def _split_commas(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(p.strip() for p in value.split(",") if p.strip())
        return value

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """The environment's settings with `overrides` (flags) on top; None means "not given"."""
        given = {k: v for k, v in overrides.items() if v is not None}
        try:
            return cls(**given)
        except ValidationError as exc:
            raise ConfigError(_describe(exc, given)) from None

    @property
    def is_loopback(self) -> bool:
        return is_loopback_host(self.host)


def _describe(exc: ValidationError, given: dict[str, Any]) -> str:
    """One line per bad value: the variable it came from (or the setting, for a flag) and why."""
    lines = []
    for err in exc.errors():
        name = str(err["loc"][0]) if err["loc"] else "?"
        if name in given or name.lower() in given:
            where = f"setting {name.lower()}"
        else:
            var = name.upper() if name.upper().startswith(ENV_PREFIX) else f"{ENV_PREFIX}{name.upper()}"
            where = f"{var}={os.environ.get(var, err.get('input'))!r}"
        lines.append(f"{where}: {err['msg']}")
    return "; ".join(lines)


def is_loopback_host(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
