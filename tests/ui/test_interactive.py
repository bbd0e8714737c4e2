"""The dashboard used as a person would: start, act on executions, follow a live log, give a token.

Drives headless Chromium over the DevTools protocol (see browser.py) against a live server; the
executions move because the test plays the worker on the store.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from conveyor.api.auth import create_token
from conveyor.core.model import ExecutionFilter, Status

from .browser import CHROMIUM, Page, browser
from .conftest import Driver, LiveServer

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)"
)


def row(execution_id: str) -> str:
    return f'tr[data-id="{execution_id}"]'


def params_shown(page: Page) -> object:
    return json.loads(page.js("document.getElementById('start-params').value"))


def choose_workflow(page: Page, name: str) -> None:
    page.set_value("#start-workflow", name)
    page.js("document.getElementById('start-workflow').dispatchEvent(new Event('change'))")


def submit_start(page: Page, workflow: str, parameters: str, target: str = "") -> None:
    choose_workflow(page, workflow)
    page.set_value("#start-params", parameters)
    page.set_value("#start-target", target)
    page.js("document.getElementById('start-form').requestSubmit()")


def wait_for_workflows(page: Page) -> None:
    page.wait("document.querySelectorAll('#start-workflow option').length === 3", what="the workflow list")


def test_start_and_cancel_from_the_page(
    live: Callable[..., LiveServer], driver: Driver, tmp_path: Path
) -> None:
    server = live()
    with browser(tmp_path) as page:
        page.open(server.url + "#start")
        wait_for_workflows(page)
        assert params_shown(page) == {"database": "", "full": False}  # prefilled from the schema
        choose_workflow(page, "demo.count")
        assert params_shown(page) == {"n": 0, "delay": 0.5}

        submit_start(page, "demo.count", '{"n": 2}', target="db9")
        page.wait_visible("#start-ok")
        (started,) = driver.service.list(ExecutionFilter(), sort=("-id",), limit=10, cursor=None).items
        assert started.workflow == "demo.count" and started.target == "db9"
        assert started.parameters == {"n": 2, "delay": 0.5}
        # the new execution opens in the details panel and appears in the list
        page.wait_text("#d-id", started.id)
        page.wait_for(row(started.id))
        assert page.text(f"{row(started.id)} .badge") == "pending"

        page.click(f'{row(started.id)} button[data-action="cancel"]')
        page.wait_text(f"{row(started.id)} .badge", "cancelled")
        assert driver.service.get(started.id).status is Status.CANCELLED
        assert "is now cancelled" in page.text("#notice-text")
        # cancelled: the details panel now offers resume and requeue
        page.wait_text("#d-status .badge", "cancelled")
        actions = page.js("[...document.querySelectorAll('#d-actions button')].map(b => b.dataset.action)")
        assert actions == ["resume", "requeue"]


def test_the_api_error_message_is_shown(live: Callable[..., LiveServer], tmp_path: Path) -> None:
    server = live()
    body = {"workflow": "demo.count", "parameters": {"n": "many"}}
    expected = httpx.post(server.url + "api/v1/executions", json=body, timeout=10).json()["error"]["message"]

    with browser(tmp_path) as page:
        page.open(server.url + "#start")
        wait_for_workflows(page)
        submit_start(page, "demo.count", '{"n": "many"}')
        page.wait_text("#start-error", expected)

        submit_start(page, "demo.count", '{"n": ')
        page.wait_text("#start-error", "Parameters are not valid JSON", prefix=True)


def test_the_event_log_follows_a_running_execution(
    live: Callable[..., LiveServer], driver: Driver, tmp_path: Path
) -> None:
    ex = driver.start("demo.count", {"n": 4})
    driver.run(ex.id, done=1, total=4)
    server = live()

    with browser(tmp_path) as page:
        page.open(f"{server.url}#ex={ex.id}")
        page.wait_text("#d-log-state", "live")
        page.wait("document.querySelectorAll('#d-log .log-line').length === 2", what="the first events")

        driver.service.message(ex.id, "halfway <b>there</b>")
        page.wait_text("#d-log .log-line:last-child .log-msg", "halfway <b>there</b>")
        driver.succeed(ex.id, {"counted": 4})
        page.wait_text("#d-log-state", "finished", prefix=True)
        assert page.text("#d-status .badge") == "succeeded"
        assert json.loads(page.text("#d-result")) == {"counted": 4}
        kinds = page.js("[...document.querySelectorAll('#d-log .log-kind')].map(e => e.textContent)")
        assert kinds == ["status", "status", "message", "status"]

        page.click("#details-close")
        assert not page.visible("#details")
        assert page.js("location.hash") == ""


def test_a_token_is_asked_for_kept_and_sent(
    live: Callable[..., LiveServer], driver: Driver, tmp_path: Path
) -> None:
    _, secret = create_token(driver.service, "dashboard", "viewer")
    ex = driver.start("demo.count", {"n": 1})
    server = live("required")

    with browser(tmp_path) as page:
        page.open(server.url)
        page.wait_visible("#token-bar")
        assert "needs an API token" in page.text("#token-msg")

        page.set_value("#token-input", "not-a-token")
        page.js("document.getElementById('token-form').requestSubmit()")
        page.wait("document.getElementById('token-msg').textContent.includes('refused')", what="a refusal")
        assert page.visible("#token-bar")

        page.set_value("#token-input", secret)
        page.js("document.getElementById('token-form').requestSubmit()")
        page.wait_for(row(ex.id))
        assert page.js("localStorage.getItem('conveyor.token')") == secret
        assert not page.visible("#token-bar")

        # EventSource cannot send the token, so the details panel polls the events page instead
        page.click(row(ex.id))
        page.wait_text("#d-log-state", "polling every second")
        page.wait("document.querySelectorAll('#d-log .log-line').length === 1", what="the first event")

        page.open(server.url)  # a reload keeps the token
        page.wait_for(row(ex.id))
        assert not page.visible("#token-bar")


def test_filters_and_pages(live: Callable[..., LiveServer], driver: Driver, tmp_path: Path) -> None:
    counts = [driver.start("demo.count", {"n": i}) for i in range(52)]
    backup = driver.start("backup", {"database": "db1"}, target="db1")
    server = live()
    rows = "document.querySelectorAll('#rows tr.row').length"

    with browser(tmp_path) as page:
        page.open(server.url)
        page.wait(f"{rows} === 50", what="the first page")
        assert page.js("document.querySelector('#rows tr.row').dataset.id") == backup.id  # newest first
        page.click("#page-next")
        page.wait(f"{rows} === 3", what="the second page")
        assert page.text("#page-info") == "Page 2"
        assert page.js("document.getElementById('page-next').disabled") is True
        assert page.js("document.querySelector('#rows tr.row:last-child').dataset.id") == counts[0].id
        page.click("#page-prev")
        page.wait(f"{rows} === 50", what="the first page again")

        page.set_value("#filter-workflow", "backup")
        page.js("document.getElementById('filters').requestSubmit()")
        page.wait(f"{rows} === 1", what="the workflow filter")
        assert page.js("location.hash") == "#workflow=backup"
        page.wait_text("#counts .chip.st-pending .chip-count", "1")  # counts follow the workflow filter

        page.click("#filter-clear")
        page.wait(f"{rows} === 50", what="no filter")
        page.click("#counts .chip.st-succeeded")  # a status chip filters the list by that status
        page.wait_text("#rows tr.placeholder td", "No executions match these filters.")
        assert page.js("document.getElementById('filter-status').value") == "succeeded"
        page.wait_text("#counts .chip.st-all .chip-count", "53")
