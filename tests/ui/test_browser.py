"""The dashboard in a real browser: headless Chromium loads the page from a live server, its
script fetches from the API and renders, and the DOM it leaves behind shows the data.

Skipped when Debian's chromium is not installed (`apt-get install chromium`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from conveyor.core.model import ErrorInfo, Execution

from .browser import CHROMIUM, run_chromium
from .conftest import Driver, LiveServer

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)"
)

TRACEBACK = 'Traceback (most recent call last):\n  File "backup.py", line 3\nOSError: disk full'
HOSTILE = "<img src=x id=pwned>"


def chromium(url: str, tmp_path: Path, *args: str) -> str:
    return run_chromium(url, tmp_path, "--virtual-time-budget=5000", *args)


def element(dom: str, element_id: str) -> str:
    """The opening tag of the element with this id (to read its attributes, e.g. `hidden`)."""
    found = re.search(rf'<[a-z]+[^>]*\bid="{re.escape(element_id)}"[^>]*>', dom)
    assert found, f"no element #{element_id} in the page"
    return found.group(0)


def fill(driver: Driver) -> dict[str, Execution]:
    """Executions in four statuses, with events, progress, a result, a traceback and a hostile target."""
    ok = driver.start("demo.count", {"n": 5}, target="db1")
    driver.run(ok.id, done=5, total=5)
    driver.service.message(ok.id, "counted to 5")
    ok = driver.succeed(ok.id, {"counted": 5})

    bad = driver.start("backup", {"database": "db2"}, target="db2")
    driver.run(bad.id, done=3, total=10)
    driver.service.message(bad.id, "dumping table users", level="warning")
    bad = driver.fail(bad.id, ErrorInfo("OSError", "disk full", TRACEBACK))

    running = driver.start("demo.count", {"n": 5}, target=HOSTILE)
    running = driver.run(running.id, done=2, total=5)

    queued = driver.start("maintenance", {}, queue=True)  # a system workflow waits for the running one
    return {"succeeded": ok, "failed": bad, "running": running, "queued": queued}


def test_the_dashboard_renders_executions(
    live: Callable[..., LiveServer], driver: Driver, tmp_path: Path
) -> None:
    executions = fill(driver)
    assert {name: str(ex.status) for name, ex in executions.items()} == {
        "succeeded": "succeeded", "failed": "failed", "running": "running", "queued": "queued",
    }  # fmt: skip
    server = live()

    dom = chromium(server.url, tmp_path, "--dump-dom")

    for status, ex in executions.items():
        row = re.search(rf'<tr class="row[^"]*"[^>]*data-id="{ex.id}".*?</tr>', dom, re.S)
        assert row, f"no row for the {status} execution {ex.id}"
        text = row.group(0)
        assert f'class="badge st-{status}">{status}<' in text
        assert f">{ex.workflow}<" in text
        assert f">{ex.id[-8:]}<" in text
        assert "ago<" in text or "just now<" in text
    running_row = re.search(rf'data-id="{executions["running"].id}".*?</tr>', dom, re.S)
    assert running_row and 'aria-valuenow="40"' in running_row.group(0) and ">40%<" in running_row.group(0)
    assert ">Kill<" in running_row.group(0) and ">Pause<" in running_row.group(0)
    # The hostile target is shown as text, never parsed into an element.
    assert html.escape(HOSTILE, quote=False) in dom and 'id="pwned"' not in dom
    # Counts per status, the health line and the start form's workflow list came from the API too.
    assert re.search(r'class="chip-count">4<', dom), "the 'All' chip counts the four executions"
    assert "ok · v9.9.9 · sqlite" in dom
    assert '<option value="backup">backup</option>' in dom
    params = re.search(r'<textarea id="start-params"[^>]*>(.*?)</textarea>', dom, re.S)
    assert params and html.unescape(params.group(1)) == '{\n  "database": "",\n  "full": false\n}', (
        "the first workflow's parameters, prefilled from its schema"
    )
    assert 'id="details" class="drawer" aria-label="Execution details" hidden' in dom


def test_the_details_panel_shows_the_error_and_the_event_log(
    live: Callable[..., LiveServer], driver: Driver, tmp_path: Path
) -> None:
    failed = fill(driver)["failed"]
    server = live()

    dom = chromium(f"{server.url}#ex={failed.id}", tmp_path, "--dump-dom")

    assert "hidden" not in element(dom, "details")
    assert f'<p class="mono small selectable" id="d-id">{failed.id}</p>' in dom
    assert '<p id="d-error" class="error-text">OSError: disk full</p>' in dom
    assert html.escape(TRACEBACK, quote=False) in dom
    assert "&quot;database&quot;: &quot;db2&quot;" in dom or '"database": "db2"' in dom
    log = re.search(r'<div id="d-log".*?</div>\s*</div>\s*</aside>', dom, re.S)
    assert log, "no event log"
    assert "dumping table users" in log.group(0)
    assert 'class="log-line level-warning kind-message"' in log.group(0)
    assert 'class="log-kind">status<' in log.group(0)
    assert "finished: no more events" in dom, "the stream ended with its `end` event"


def test_a_server_that_needs_a_token_asks_for_one(live: Callable[..., LiveServer], tmp_path: Path) -> None:
    server = live("required")

    dom = chromium(server.url, tmp_path, "--dump-dom")

    assert "hidden" not in element(dom, "token-bar")
    assert "This server needs an API token" in dom


@pytest.mark.parametrize("size", ["1280,900", "1600,900", "390,844"])
def test_screenshots(live: Callable[..., LiveServer], driver: Driver, tmp_path: Path, size: str) -> None:
    """Screenshots of the list, the details panel and the start form, to look at (in pytest's tmp dir)."""
    failed = fill(driver)["failed"]
    server = live()
    width = size.split(",")[0]
    pages = {
        "list": server.url,
        "details": f"{server.url}#ex={failed.id}",
        "start": f"{server.url}#start=demo.count",
    }

    for name, url in pages.items():
        shot = tmp_path / f"dash-{name}-{width}.png"
        chromium(url, tmp_path, f"--screenshot={shot}", f"--window-size={size}", "--hide-scrollbars")
        assert shot.exists() and shot.stat().st_size > 10_000, f"no screenshot at {shot}"
