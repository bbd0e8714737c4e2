"""An execution's events: as a page, and as a live Server-Sent Events stream.

The stream polls the store (every ~0.2 s by default) rather than waiting on a
notification so it works the same over SQLite and PostgreSQL and across
processes: whichever worker writes the events, the stream sees them. Store
calls are synchronous, so each poll runs in the threadpool and the event loop
stays free for other requests. A stream ends with `event: end` once the
execution is terminal and every event has been sent, so a client can just read
until the connection closes; `id:` lines let a reconnecting client resume with
`Last-Event-ID`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from conveyor.api.auth import Viewer
from conveyor.api.deps import Service, dump, json_answer
from conveyor.api.schemas import COMMON_ERRORS, NOT_FOUND, EventList
from conveyor.api.serialize import event_doc, execution_doc
from conveyor.core.errors import InvalidRequest, NotFound
from conveyor.core.executions import ExecutionService
from conveyor.core.model import Event

router = APIRouter(tags=["events"], responses={**COMMON_ERRORS, **NOT_FOUND})

STREAM_BATCH = 500
KEEPALIVE = b": keepalive\n\n"


def sse_frame(data: str, *, event: str | None = None, id: str | None = None) -> bytes:
    """One SSE frame; `data` is single-line JSON, so one `data:` line carries it."""
    lines = []
    if id is not None:
        lines.append(f"id: {id}")
    if event is not None:
        lines.append(f"event: {event}")
    lines.append(f"data: {data}")
    return ("\n".join(lines) + "\n\n").encode()


def event_frame(ev: Event) -> bytes:
    return sse_frame(dump(event_doc(ev)), event=ev.kind, id=str(ev.seq))


@router.get("/executions/{execution_id}/events", response_model=EventList, summary="List events")
def list_events(
    execution_id: str,
    service: Service,
    _: Viewer,
    after: Annotated[int, Query(ge=0, description="Only events with a larger seq")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
) -> Response:
    events = service.events(execution_id, after=after, limit=limit)
    return json_answer({"items": [event_doc(ev) for ev in events]})


@router.get(
    "/executions/{execution_id}/events/stream",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "`text/event-stream`: `id: <seq>`, `event: <kind>`, `data: <event json>` "
            "per event; finally `event: end` with the execution as data once it is terminal.",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        }
    },
    summary="Follow events live (SSE)",
)
async def stream_events(
    execution_id: str,
    request: Request,
    service: Service,
    _: Viewer,
    after: Annotated[int | None, Query(ge=0, description="Start after this seq")] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse:
    start = after or 0
    if last_event_id is not None and last_event_id.strip():
        try:
            start = int(last_event_id.strip())
        except ValueError:
            raise InvalidRequest("Last-Event-ID must be an event seq", {"field": "Last-Event-ID"}) from None
    await run_in_threadpool(service.get, execution_id)  # an unknown id is a 404, not an empty stream
    settings = request.app.state
    frames = _frames(
        service, execution_id, start, poll=settings.stream_poll_interval, keepalive=settings.stream_keepalive
    )
    return StreamingResponse(
        frames,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _frames(
    service: ExecutionService,
    execution_id: str,
    after: int,
    *,
    poll: float,
    keepalive: float,
) -> AsyncIterator[bytes]:
    """Send what is new, until the execution is terminal and nothing is left to send.

    The execution is read before its events: when it is terminal, the terminal
    status event was written with it, so draining the events after that read
    cannot miss it. A client that hangs up needs no check here: StreamingResponse
    listens for the disconnect and cancels this generator (under an ASGI server
    that does not report it, the next write fails: a keepalive at the latest),
    so this loop does not read `receive` itself and compete with that listener.
    """
    last_sent = time.monotonic()
    while True:
        try:
            ex = await run_in_threadpool(service.get, execution_id)
        except NotFound:
            return  # deleted while watched: nothing more will come
        while True:
            try:
                batch = await run_in_threadpool(service.events, execution_id, after=after, limit=STREAM_BATCH)
            except NotFound:
                return
            for ev in batch:
                yield event_frame(ev)
                after = ev.seq if ev.seq is not None else after
            if batch:
                last_sent = time.monotonic()
            if len(batch) < STREAM_BATCH:
                break
        if ex.status.is_terminal:
            yield sse_frame(dump(execution_doc(ex)), event="end")
            return
        if time.monotonic() - last_sent >= keepalive:
            yield KEEPALIVE
            last_sent = time.monotonic()
        await anyio.sleep(poll)
