"""A minimal Server-Sent Events parser (the text/event-stream format of the events stream).

httpx delivers the body line by line; this turns lines into frames following
the WHATWG rules that matter here: `field: value` lines (one optional space
after the colon), `data` lines joined with newlines, comments starting with
`:` (the server's keep-alives), and a blank line ending a frame. It has no
I/O so the sync and async clients share it and tests need no server.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

END = "end"


@dataclass(frozen=True, slots=True)
class Frame:
    event: str
    data: str
    id: str | None

    def json(self) -> Any:
        return json.loads(self.data) if self.data else None


class SSEParser:
    """Feed lines without their terminators; `feed` returns a Frame when a blank line completes one."""

    def __init__(self) -> None:
        self._event = ""
        self._data: list[str] = []
        self._id: str | None = None
        self.last_event_id: str | None = None

    def feed(self, line: str) -> Frame | None:
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self._id = value
        # `retry` and unknown fields are ignored, as the standard says.
        return None

    def flush(self) -> Frame | None:
        """A frame left open when the stream ended; the standard drops it, so this does too."""
        self._reset()
        return None

    def _dispatch(self) -> Frame | None:
        if self._id is not None:
            self.last_event_id = self._id
        if not self._data and not self._event:
            self._reset()
            return None
        frame = Frame(self._event or "message", "\n".join(self._data), self._id)
        self._reset()
        return frame

    def _reset(self) -> None:
        self._event = ""
        self._data = []
        self._id = None


def parse_lines(lines: Iterable[str]) -> Iterator[Frame]:
    parser = SSEParser()
    for line in lines:
        frame = parser.feed(line)
        if frame is not None:
            yield frame


def event_of(frame: Frame) -> dict[str, Any]:
    """The event document a frame carries; a non-JSON payload is kept as the event's message."""
    try:
        data = frame.json()
    except ValueError:
        data = None
    if isinstance(data, dict):
        return data
    out: dict[str, Any] = {"kind": frame.event, "message": frame.data}
    if frame.id is not None and frame.id.isdigit():
        out["seq"] = int(frame.id)
    return out


def seq_of(frame: Frame, event: dict[str, Any], current: int) -> int:
    """The sequence number to resume after: the frame's id, else the event's seq, else unchanged."""
    for candidate in (frame.id, event.get("seq")):
        try:
            if candidate is not None:
                return max(current, int(candidate))
        except (TypeError, ValueError):
            continue
    return current
