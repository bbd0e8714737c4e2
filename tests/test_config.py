"""Settings: CONVEYOR_* variables through pydantic-settings, flags on top, clear errors."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from conveyor.cli.main import app
from conveyor.config import ConfigError, Settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.upper().startswith("CONVEYOR_"):
            monkeypatch.delenv(name)


def test_defaults() -> None:
    s = Settings.from_env()
    assert s.database_url == "sqlite:///conveyor.db"
    assert (s.host, s.port, s.auth) == ("127.0.0.1", 8321, "auto")
    assert (s.retention, s.lease_seconds, s.tick_interval) == (604800.0, 30.0, 1.0)
    assert (s.apps, s.queues, s.concurrency) == ((), ("default",), 8)
    assert (s.run_worker, s.implicit_targets, s.tls_cert, s.tls_key) == (True, False, None, None)
    assert s.is_loopback


def test_environment_is_read_and_converted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONVEYOR_PORT", "9000")
    monkeypatch.setenv("CONVEYOR_APPS", "a.b, c:app,,")
    monkeypatch.setenv("CONVEYOR_QUEUES", "fast,slow")
    monkeypatch.setenv("CONVEYOR_RETENTION", "60")
    monkeypatch.setenv("CONVEYOR_RUN_WORKER", "no")
    monkeypatch.setenv("CONVEYOR_IMPLICIT_TARGETS", "true")
    monkeypatch.setenv("CONVEYOR_DATABASE", "sqlite:///old-name.db")
    s = Settings.from_env()
    assert s.port == 9000
    assert s.apps == ("a.b", "c:app")
    assert s.queues == ("fast", "slow")
    assert s.retention == 60.0
    assert s.run_worker is False
    assert s.implicit_targets is True
    assert s.database_url == "sqlite:///old-name.db"
    monkeypatch.setenv("CONVEYOR_DATABASE_URL", "sqlite:///new-name.db")
    assert Settings.from_env().database_url == "sqlite:///new-name.db"


def test_another_programs_database_url_is_not_conveyors(monkeypatch: pytest.MonkeyPatch) -> None:
    """A plain DATABASE_URL (Heroku, Docker) belongs to some other program: only CONVEYOR_* is read."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://other-app/db")
    monkeypatch.setenv("PORT", "1234")
    assert Settings.from_env().database_url == "sqlite:///conveyor.db"
    assert Settings.from_env().port == 8321
    monkeypatch.setenv("CONVEYOR_DATABASE_URL", "sqlite:///mine.db")
    assert Settings.from_env().database_url == "sqlite:///mine.db"


def test_flags_override_environment_and_none_means_not_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONVEYOR_PORT", "9000")
    monkeypatch.setenv("CONVEYOR_CONCURRENCY", "3")
    monkeypatch.setenv("CONVEYOR_DATABASE_URL", "sqlite:///env.db")
    s = Settings.from_env(port=9100, concurrency=None, database_url="sqlite:///flag.db", queues=("q",))
    assert (s.port, s.concurrency, s.database_url, s.queues) == (9100, 3, "sqlite:///flag.db", ("q",))


def test_bad_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONVEYOR_PORT", "abc")
    with pytest.raises(ConfigError, match=r"CONVEYOR_PORT='abc': .*integer"):
        Settings.from_env()
    monkeypatch.setenv("CONVEYOR_PORT", "1")
    monkeypatch.setenv("CONVEYOR_RUN_WORKER", "maybe")
    with pytest.raises(ConfigError, match=r"CONVEYOR_RUN_WORKER='maybe': .*boolean"):
        Settings.from_env()


def test_cli_reports_a_bad_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONVEYOR_LEASE_SECONDS", "soon")
    result = CliRunner().invoke(app, ["db", "current"])
    assert result.exit_code == 1
    assert "bad configuration: CONVEYOR_LEASE_SECONDS='soon'" in result.output
