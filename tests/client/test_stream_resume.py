"""The events stream resumes after a dropped connection without repeating or losing events.

A real server does not drop connections on cue, so this one scripted case uses
httpx.MockTransport; everything else about the stream is tested live.
"""

from __future__ import annotations

import json

import httpx
import pytest

from conveyor.client import Client, ConveyorConnectionError


def frame(seq: int, message: str) -> str:
    doc = {"seq": seq, "kind": "message", "message": message}
    return f"id: {seq}\nevent: message\ndata: {json.dumps(doc)}\n\n"


def test_a_dropped_stream_resumes_after_the_last_event_seen() -> None:
    answers = [
        frame(1, "one") + ": keepalive\n\n" + frame(2, "two"),  # closes without `end`
        frame(3, "three") + 'event: end\ndata: {"id": "e1", "status": "succeeded"}\n\n',
    ]
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text=answers[len(seen) - 1], headers={"content-type": "text/event-stream"})

    with Client("http://conveyor.test", transport=httpx.MockTransport(handler)) as client:
        messages = [e["message"] for e in client.executions.stream_events("e1")]
    assert messages == ["one", "two", "three"]
    assert [r.url.params["after"] for r in seen] == ["0", "2"]
    assert seen[1].headers["Last-Event-ID"] == "2"
    assert seen[0].url.path == "/api/v1/executions/e1/events/stream"


def test_a_stream_that_keeps_dropping_gives_up_with_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("conveyor.client._sync.executions.reconnect_delay", lambda failures: 0.0)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text=": nothing\n\n", headers={"content-type": "text/event-stream"})

    with (
        Client("http://conveyor.test", transport=httpx.MockTransport(handler)) as client,
        pytest.raises(ConveyorConnectionError, match="closed 5 times before the execution ended"),
    ):
        list(client.executions.stream_events("e1"))
