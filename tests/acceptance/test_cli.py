"""The CLI against a live server: start --wait shows progress and ends with the result; list --json."""

from __future__ import annotations

import json
import subprocess

from conveyor.client import Client
from tests.acceptance.conftest import CONVEYOR, ROOT, System


def cli(system: System, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CONVEYOR, "--url", url, *args], cwd=ROOT, env=system.env, capture_output=True, text=True, timeout=60
    )


def test_start_wait_completes_and_list_shows_it(served: tuple[System, Client]) -> None:
    system, client = served
    done = cli(
        system, client.url, "start", "acc.steps", "--param", "steps=5", "--param", "delay=0.02", "--wait"
    )
    assert done.returncode == 0, done.stderr
    assert '"steps": 5' in done.stdout or "'steps': 5" in done.stdout or "steps" in done.stdout

    listed = cli(system, client.url, "list", "--json")
    assert listed.returncode == 0, listed.stderr
    items = json.loads(listed.stdout)
    rows = items["items"] if isinstance(items, dict) else items
    assert [r["workflow"] for r in rows] == ["acc.steps"] and rows[0]["status"] == "succeeded"


def test_failure_exits_non_zero_with_the_error(served: tuple[System, Client]) -> None:
    system, client = served
    refused = cli(system, client.url, "start", "acc.steps", "--param", "steps=oops", "--wait")
    assert refused.returncode == 1
    assert "steps" in refused.stderr and "Traceback" not in refused.stderr
