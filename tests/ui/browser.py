"""A headless Chromium the tests can drive: load a page, run JavaScript in it, wait for conditions.

Speaks the DevTools protocol over a WebSocket (the `websockets` package comes with uvicorn[standard]),
so no browser-automation library is needed. Every wait has a deadline and the browser is always stopped.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
    "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--mute-audio",
]  # fmt: skip


#: Installed in every page before its own scripts: collects uncaught errors and CSP violations.
WATCH_ERRORS = """
window.__problems = [];
window.addEventListener("error", (e) => window.__problems.push(`error: ${e.message}`));
window.addEventListener("unhandledrejection", (e) => window.__problems.push(`rejection: ${e.reason}`));
document.addEventListener("securitypolicyviolation",
    (e) => window.__problems.push(`CSP: ${e.violatedDirective} ${e.blockedURI}`));
"""


def run_chromium(url: str, workdir: Path, *args: str, timeout: float = 60) -> str:
    """Run Chromium once on `url` (e.g. with --dump-dom or --screenshot); answer what it printed."""
    profile = workdir / f"profile-{time.monotonic_ns()}"
    command = [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *args, url]
    env = {**os.environ, "HOME": str(workdir)}
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    assert done.returncode == 0, f"chromium exited {done.returncode}:\n{done.stderr[-3000:]}"
    return done.stdout


class Page:
    """One browser tab, driven over the DevTools protocol."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.ids = itertools.count(1)

    def call(self, method: str, timeout: float = 15, **params: Any) -> dict[str, Any]:
        call_id = next(self.ids)
        self.ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"no answer to {method} within {timeout} s"
            message = json.loads(self.ws.recv(timeout=left))
            if message.get("id") == call_id:
                assert "error" not in message, f"{method} failed: {message['error']}"
                result: dict[str, Any] = message.get("result", {})
                return result

    def open(self, url: str) -> None:
        self.call("Page.navigate", url=url)

    def js(self, expression: str) -> Any:
        """Evaluate `expression` in the page (promises are awaited) and answer its JSON value."""
        answer = self.call("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in answer:
            details = answer["exceptionDetails"]
            raise AssertionError(f"{expression!r} threw: {details.get('exception', details)}")
        return answer["result"].get("value")

    def wait(self, expression: str, *, timeout: float = 10, what: str = "") -> Any:
        """Evaluate `expression` until it is truthy; fail with the last value at the deadline."""
        deadline = time.monotonic() + timeout
        value: Any = None
        while time.monotonic() < deadline:
            try:
                value = self.js(expression)
            except AssertionError:
                value = None  # e.g. the element is not there yet
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(
            f"timed out after {timeout} s waiting for {what or expression} (last: {value!r})"
        )

    def text(self, selector: str) -> str:
        return str(self.js(f"document.querySelector({json.dumps(selector)})?.textContent ?? ''"))

    def visible(self, selector: str) -> bool:
        """The element exists and neither it nor an ancestor is `hidden`."""
        found = f"document.querySelector({json.dumps(selector)})"
        return bool(self.js(f"(e => !!e && !e.closest('[hidden]'))({found})"))

    def click(self, selector: str) -> None:
        self.js(f"document.querySelector({json.dumps(selector)}).click()")

    def set_value(self, selector: str, value: str) -> None:
        self.js(f"document.querySelector({json.dumps(selector)}).value = {json.dumps(value)}")

    def wait_for(self, selector: str, *, timeout: float = 10) -> None:
        self.wait(f"!!document.querySelector({json.dumps(selector)})", timeout=timeout, what=selector)

    def wait_visible(self, selector: str, *, timeout: float = 10) -> None:
        found = f"document.querySelector({json.dumps(selector)})"
        self.wait(f"(e => !!e && !e.closest('[hidden]'))({found})", timeout=timeout, what=f"{selector} shown")

    def wait_text(self, selector: str, text: str, *, prefix: bool = False, timeout: float = 10) -> None:
        """Wait until the element's text is `text` (or starts with it)."""
        got = f"(document.querySelector({json.dumps(selector)})?.textContent ?? '')"
        test = f"{got}.startsWith({json.dumps(text)})" if prefix else f"{got} === {json.dumps(text)}"
        self.wait(test, timeout=timeout, what=f"{selector} to read {text!r}")


@contextmanager
def browser(workdir: Path, *, width: int = 1280, height: int = 900) -> Iterator[Page]:
    """A headless Chromium with one blank tab, stopped when the block ends.

    When the block ends normally, the page must not have reported an uncaught error or a
    Content-Security-Policy violation.
    """
    profile = workdir / f"profile-{time.monotonic_ns()}"
    log = (workdir / "chromium.log").open("ab")
    command = [
        str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0",
        f"--window-size={width},{height}", "about:blank",
    ]  # fmt: skip
    proc = subprocess.Popen(
        command, stdout=log, stderr=log, env={**os.environ, "HOME": str(workdir)}, start_new_session=True
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            assert proc.poll() is None, f"chromium exited {proc.returncode}; see {workdir / 'chromium.log'}"
            assert time.monotonic() < deadline, "chromium did not open its DevTools port within 30 s"
            time.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as answer:
            targets = json.load(answer)
        url = next(t["webSocketDebuggerUrl"] for t in targets if t.get("type") == "page")
        with connect(url, max_size=None, open_timeout=10) as ws:
            page = Page(ws)
            page.call("Page.enable")
            page.call("Page.addScriptToEvaluateOnNewDocument", source=WATCH_ERRORS)
            yield page
            problems = page.js("window.__problems || []")
            assert not problems, f"the page reported errors: {problems}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
