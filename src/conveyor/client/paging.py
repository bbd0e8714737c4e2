"""One way to walk a paged list, with no I/O in it (like httpx's `Auth.auth_flow`).

Every list endpoint pages alike: ask with `limit` (and `cursor`), get back
`{"items", "next_cursor"}` (docs/api.md); the events of an execution page by
`after`, the last seq seen. A `Pager` holds how far a walk has got and says
what to ask next; the listings in `_async/base.py` (and the generated sync
ones) only send what it says, so paging is written, and tested, once.
"""

from __future__ import annotations

from collections.abc import Callable

from conveyor.client.calls import MAX_PAGE, Call
from conveyor.client.models import JSON

#: The request for one page, given how many items to ask for and the cursor (None at first).
PageCall = Callable[[int, str | None], Call]


def next_cursor(answer: JSON, asked: int) -> str | None:
    """Where the next page starts: the answer's `next_cursor` (null on the last page)."""
    cursor = answer.get("next_cursor")
    return str(cursor) if cursor else None


def after_last_seq(answer: JSON, asked: int) -> str | None:
    """For event pages, which have no cursor: after the last seq, unless the page came back short."""
    items = answer.get("items") or []
    return str(items[-1]["seq"]) if len(items) >= asked else None


class Pager:
    """Where one walk over a list stands: `next_call()` is the next request (None when done),
    `take(answer)` the items of its answer, at most `limit` of them in all."""

    def __init__(
        self,
        page: PageCall,
        *,
        page_size: int = MAX_PAGE,
        limit: int | None = None,
        cursor_of: Callable[[JSON, int], str | None] = next_cursor,
        empty: bool = False,
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE}")
        if limit is not None and limit < 0:
            raise ValueError("limit must be zero or more")
        self._page, self._cursor_of = page, cursor_of
        self.page_size, self.limit = page_size, limit
        self.yielded, self.asked = 0, 0
        self.cursor: str | None = None
        self.done = empty or limit == 0

    def next_call(self) -> Call | None:
        if self.done:
            return None
        wanted = self.page_size if self.limit is None else self.limit - self.yielded
        self.asked = min(self.page_size, wanted)
        return self._page(self.asked, self.cursor)

    def take(self, answer: JSON) -> list[JSON]:
        items = list(answer.get("items") or [])
        self.cursor = self._cursor_of(answer, self.asked) if items else None
        if self.limit is not None:
            items = items[: self.limit - self.yielded]
        self.yielded += len(items)
        self.done = self.cursor is None or (self.limit is not None and self.yielded >= self.limit)
        return items
