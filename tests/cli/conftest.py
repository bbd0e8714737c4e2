"""Fixtures for the CLI tests: a live server, and a runner that invokes `conveyor --url <it> ...`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from conveyor.cli.main import app
from tests.client.live import Live, live_server


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    with live_server(tmp_path) as server:
        yield server


@pytest.fixture
def cli(live: Live, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run the CLI against the live server; stdout and stderr stay apart as in a shell."""
    monkeypatch.delenv("CONVEYOR_TOKEN", raising=False)
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, ["--url", live.url, *args], catch_exceptions=False)

    return invoke
