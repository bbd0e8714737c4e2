"""Lazy lists over a `Pager`: nothing is requested before iteration, then one page per request.

Large histories can be walked without loading them, and a loop that stops
early costs only the pages it saw. Each iteration starts a fresh walk.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Generic, TypeVar

from conveyor.client._async.http import AsyncHTTP
from conveyor.client.calls import MAX_PAGE
from conveyor.client.models import JSON
from conveyor.client.paging import PageCall, Pager, check_page, next_cursor

T = TypeVar("T")


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
        check_page(page_size, limit)  # refuse a bad page size now, not at the first iteration
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
