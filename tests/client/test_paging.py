"""The one Pager behind every `.list()`: what it asks for next, and what it hands back."""

from __future__ import annotations

import pytest

from conveyor.client.calls import Call
from conveyor.client.models import JSON
from conveyor.client.paging import Pager, after_last_seq


def page(limit: int, cursor: str | None) -> Call:
    return Call("GET", "/things", params={"limit": str(limit), **({"cursor": cursor} if cursor else {})})


def walk(pager: Pager, answers: list[JSON]) -> tuple[list[dict[str, str]], list[JSON]]:
    asked, items = [], []
    while (call := pager.next_call()) is not None:
        asked.append(call.params)
        items += pager.take(answers[len(asked) - 1])
    return asked, items


def test_follows_next_cursor_until_it_is_null() -> None:
    answers: list[JSON] = [
        {"items": [{"n": 1}, {"n": 2}], "next_cursor": "2"},
        {"items": [{"n": 3}], "next_cursor": None},
    ]
    asked, items = walk(Pager(page, page_size=2), answers)
    assert asked == [{"limit": "2"}, {"limit": "2", "cursor": "2"}]
    assert items == [{"n": 1}, {"n": 2}, {"n": 3}]


def test_never_asks_for_more_than_the_limit_still_wants() -> None:
    answers = [{"items": [{"n": i} for i in range(10)], "next_cursor": "x"}] * 3
    asked, items = walk(Pager(page, page_size=10, limit=25), answers)
    assert [a["limit"] for a in asked] == ["10", "10", "5"] and len(items) == 25
    assert walk(Pager(page, limit=0), answers) == ([], [])
    assert walk(Pager(page, empty=True), answers) == ([], [])


def test_an_empty_page_ends_the_walk_even_with_a_cursor() -> None:
    assert walk(Pager(page), [{"items": [], "next_cursor": "x"}]) == ([{"limit": "1000"}], [])


def test_event_pages_continue_after_the_last_seq_until_one_comes_back_short() -> None:
    answers = [{"items": [{"seq": 1}, {"seq": 2}]}, {"items": [{"seq": 3}]}]
    asked, items = walk(Pager(page, page_size=2, cursor_of=after_last_seq), answers)
    assert [a.get("cursor") for a in asked] == [None, "2"] and len(items) == 3


def test_bad_sizes_are_refused_at_once() -> None:
    with pytest.raises(ValueError, match="page_size"):
        Pager(page, page_size=1001)
    with pytest.raises(ValueError, match="limit"):
        Pager(page, limit=-1)
