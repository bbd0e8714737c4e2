"""What every resource stands on: the transport, answers bound to it, lazy lists, and polling.

Lists are lazy over a `Pager`: nothing is requested before iteration, then
one page per request, so large histories can be walked without loading them
and a loop that stops early costs only the pages it saw.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any, Generic, Protocol, TypeVar

from conveyor.client._async.http import AsyncHTTP
from conveyor.client.calls import MAX_PAGE, Call
from conveyor.client.models import JSON, Document
from conveyor.client.paging import PageCall, Pager, next_cursor
from conveyor.client.waiting import AsyncHook, Deadline, anotify, check_poll_interval

T = TypeVar("T")
R = TypeVar("R")


class AsyncBound(Document, Generic[R]):
    """A document bound to the resource that fetched it, so it can refresh and act on itself.

    Actions update the object in place with the server's answer and return it.
    """

    def __init__(self, raw: JSON, owner: R) -> None:
        super().__init__(raw)
        self._owner = owner


class AsyncResource(Generic[T]):
    """`client.<resource>`: sends calls and binds each answer to itself as a `document`."""

    document: Callable[..., T]

    def __init__(self, http: AsyncHTTP) -> None:
        self._http = http

    def _wrap(self, raw: JSON) -> T:
        return self.document(raw, self)

    async def _one(self, call: Call) -> T:
        return self._wrap(await self._http.send(call))

    async def _all(self, page: PageCall) -> list[T]:
        """A whole list, read a page at a time before it returns, so it outlives the client."""
        return await AsyncListing(self._http, page, self._wrap).to_list()


class AsyncPollable(Protocol):
    async def refresh(self) -> Any: ...


P = TypeVar("P", bound=AsyncPollable)


async def poll(
    doc: P,
    done: Callable[[P], bool],
    timeout: float | None,
    poll_interval: float,
    on_update: AsyncHook[P] | None,
    timed_out: Callable[[P, float], Exception],
    *,
    refresh_first: bool,
) -> P:
    """Refresh `doc` every `poll_interval` seconds until `done(doc)`, raising `timed_out` after `timeout`."""
    check_poll_interval(poll_interval)
    deadline = Deadline(timeout)
    if refresh_first or not done(doc):
        await doc.refresh()
        await anotify(on_update, doc)
    while not done(doc):
        if deadline.expired:
            raise timed_out(doc, deadline.timeout or 0.0)
        await asyncio.sleep(deadline.pause(poll_interval))
        await doc.refresh()
        await anotify(on_update, doc)
    return doc


class AsyncListing(Generic[T]):
    """A lazy, paged list of `T`, walked with `async for`."""

    def __init__(
        self,
        http: AsyncHTTP,
        page: PageCall,
        wrap: Callable[[JSON], T],
        *,
        page_size: int = MAX_PAGE,
        limit: int | None = None,
        cursor_of: Callable[[JSON, int], str | None] = next_cursor,
        empty: bool = False,
    ) -> None:
        Pager(page, page_size=page_size, limit=limit)  # refuse a bad size now, not at the first iteration
        self._http, self._page, self._wrap = http, page, wrap
        self._cursor_of, self._empty = cursor_of, empty
        self.page_size, self.limit = page_size, limit

    async def _walk(self, page_size: int, limit: int | None) -> AsyncIterator[list[T]]:
        pager = Pager(
            self._page, page_size=page_size, limit=limit, cursor_of=self._cursor_of, empty=self._empty
        )
        while (call := pager.next_call()) is not None:
            items = pager.take(await self._http.send(call))
            if items:
                yield [self._wrap(item) for item in items]

    def pages(self) -> AsyncIterator[list[T]]:
        """The list a page at a time, as the server hands them out."""
        return self._walk(self.page_size, self.limit)

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in page:
                yield item

    async def to_list(self) -> list[T]:
        """Everything the list yields (mind `limit` on large histories)."""
        return [item async for page in self.pages() for item in page]

    async def first(self) -> T | None:
        """The first item, fetching a single page of one."""
        async for page in self._walk(1, 1):
            return page[0]
        return None
