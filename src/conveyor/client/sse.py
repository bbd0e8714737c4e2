"""Reading the events stream's Server-Sent Events, as httpx-sse parses them.

The framing (fields, comments, multi-line data) is httpx-sse's; what is ours
is the contract of docs/api.md: each frame's data is an event document and its
id the event's seq, and one `end` frame closes the stream once the execution is over.
"""

from __future__ import annotations

from typing import Any

from httpx_sse import ServerSentEvent

END = "end"


def is_keepalive(sse: ServerSentEvent) -> bool:
    """httpx-sse hands out an empty "message" for a keep-alive once an id was seen; it carries nothing."""
    return sse.event == "message" and not sse.data


def event_of(sse: ServerSentEvent) -> dict[str, Any]:
    """The event document a frame carries; a non-JSON payload is kept as the event's message."""
    try:
        data = sse.json()
    except ValueError:
        data = None
    if isinstance(data, dict):
        return data
    out: dict[str, Any] = {"kind": sse.event, "message": sse.data}
    if sse.id.isdigit():
        out["seq"] = int(sse.id)
    return out


def seq_of(sse: ServerSentEvent, event: dict[str, Any], current: int) -> int:
    """The sequence number to resume after: the frame's id, else the event's seq, else unchanged."""
    for candidate in (sse.id or None, event.get("seq")):
        try:
            if candidate is not None:
                return max(current, int(candidate))
        except (TypeError, ValueError):
            continue
    return current
