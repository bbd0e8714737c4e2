"""The events stream as users see it: frames (parsed by httpx-sse) become event documents.

What matters is what `stream_events` yields for a given stream body; the framing itself
is httpx-sse's to get right, the resuming after drops is in test_stream_resume.py.
"""

from __future__ import annotations

import json

import httpx
from httpx_sse import ServerSentEvent

from conveyor.client import Client
from conveyor.client.sse import event_of, seq_of


def stream(body: str) -> list[dict[str, object]]:
    """What `stream_events` yields for one stream answer that ends with `end`."""

    def handler(request: httpx.Request) -> httpx.Response:
        text = body + 'event: end\ndata: {"id": "e1"}\n\n'
        return httpx.Response(200, text=text, headers={"content-type": "text/event-stream"})

    with Client("http://conveyor.test", transport=httpx.MockTransport(handler)) as client:
        return list(client.executions.stream_events("e1"))


def test_each_frame_yields_its_json_document() -> None:
    doc = {"seq": 1, "kind": "status", "message": "running"}
    assert stream(f"id: 1\nevent: status\ndata: {json.dumps(doc)}\n\n") == [doc]


def test_comments_keepalives_and_unknown_fields_yield_nothing() -> None:
    body = 'id: 1\ndata: {"seq": 1}\n\n: keepalive\n\n:\n\nretry: 1000\nfoo: bar\n\n'
    assert stream(body) == [{"seq": 1}]


def test_text_payloads_become_messages_carrying_the_frame_id_as_seq() -> None:
    body = "id: 4\nevent: log\ndata: plain\ndata: text\n\ndata: no id\n\n"
    assert stream(body) == [
        {"kind": "log", "message": "plain\ntext", "seq": 4},
        {"kind": "message", "message": "no id", "seq": 4},  # the last event id carries over
    ]


def test_nothing_after_end_is_read() -> None:
    assert stream("") == []


def test_resume_point_prefers_the_frame_id_and_never_goes_backwards() -> None:
    assert seq_of(ServerSentEvent(data="", id="9"), {}, 3) == 9
    assert seq_of(ServerSentEvent(data=""), {"seq": 5}, 3) == 5
    assert seq_of(ServerSentEvent(data="", id="2"), {}, 3) == 3
    assert seq_of(ServerSentEvent(data="", id="junk"), {"seq": "junk"}, 3) == 3
    assert event_of(ServerSentEvent(event="log", data="x", id="7")) == {
        "kind": "log",
        "message": "x",
        "seq": 7,
    }
