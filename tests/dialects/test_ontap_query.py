"""ONTAP's query syntax, what of it reaches the store, and paging that never loses or repeats a job."""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from conveyor.core.clock import ManualClock
from conveyor.core.executions import ExecutionService, StartRequest
from conveyor.core.model import Status
from conveyor.dialects.ontap.errors import OntapError
from conveyor.dialects.ontap.mapping import job_record, visible
from conveyor.dialects.ontap.query import (
    Position,
    Wildcard,
    build_query,
    parse_fields,
    parse_order_by,
    parse_predicate,
    project,
)
from conveyor.dialects.ontap.routes import count, scan
from conveyor.store.sqlite import SQLiteStore
from conveyor.worker.registry import App
from tests.databases import sqlite_copy

RECORD: dict[str, Any] = {
    "uuid": "u1",
    "description": "nightly.backup",
    "state": "failure",
    "message": "ValueError: disk full",
    "code": 1,
    "start_time": "2026-03-01T12:00:00+00:00",
    "end_time": "2026-03-01T12:05:00+00:00",
    "svm": {"name": "db1"},
    "error": {"code": "1", "message": "ValueError: disk full"},
    "_links": {"self": {"href": "/api/cluster/jobs/u1"}},
}


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("description", "nightly.backup", True),
        ("description", "nightly.*", True),
        ("description", "*.restore|*.backup", True),
        ("description", "!nightly.*", False),
        ("description", "!weekly.backup", True),
        ("description", "Nightly.backup", False),  # case-sensitive
        ("svm.name", "db1|db2", True),
        ("svm.name", "null", False),
        ("svm.name", "!null", True),
        ("code", ">0", True),
        ("code", "<=0", False),
        ("code", "!0", True),
        ("code", "1", True),
        ("start_time", ">=2026-03-01T12:00:00Z", True),
        ("start_time", ">2026-03-01T12:00:00Z", False),
        ("start_time", "2026-03-01T13:00:00+01:00", True),  # the same instant
        ("end_time", "<2026-03-01T12:05:00Z", False),
        ("end_time", "2026-03-01*", True),
        ("message", "*disk*", True),
        ("error.code", "1|2", True),
        ("error.message", "null", False),
        ("state", "success|failure", True),
        ("state", "!failure", False),
    ],
)
def test_predicates(name: str, value: str, expected: bool) -> None:
    assert parse_predicate(name, value).matches(RECORD) is expected


def test_unset_fields_match_null_and_negations_only() -> None:
    running = {**RECORD, "state": "running", "code": 0}
    del running["end_time"], running["error"]
    assert parse_predicate("end_time", "null").matches(running)
    assert not parse_predicate("end_time", ">2000-01-01").matches(running)
    assert parse_predicate("error.code", "!1").matches(running)


def test_status_fields_become_an_exact_set_of_statuses() -> None:
    q = build_query([("state", "running|paused")])
    assert q.exact and set(q.store_filter.statuses) == {
        Status.RUNNING, Status.PAUSING, Status.CANCELLING, Status.FORCE_CANCELLING, Status.KILL_CANCELLING,
        Status.PAUSED,
    }  # fmt: skip
    q = build_query([("code", ">0")])
    assert q.exact and set(q.store_filter.statuses) == {Status.FAILED, Status.CANCELLED}
    q = build_query([("state", "!success"), ("error.code", "2")])
    assert q.exact and q.store_filter.statuses == (Status.CANCELLED,)
    assert build_query([("state", "success"), ("code", "1")]).empty


def test_plain_names_go_to_the_store_and_the_rest_stays_here() -> None:
    q = build_query([("uuid", "a|b"), ("description", "backup"), ("svm.name", "db1")])
    assert q.exact
    assert q.store_filter.ids == ("a", "b") and q.store_filter.workflows == ("backup",)
    assert q.store_filter.targets == ("db1",)
    assert build_query([("uuid", "a|b"), ("uuid", "c")]).empty
    for residual in (("description", "back*"), ("svm.name", "!db1"), ("message", "x"), ("end_time", "null")):
        q = build_query([residual])
        assert not q.exact and q.store_filter.workflows == () and q.store_filter.targets == ()


@pytest.mark.parametrize(
    ("filters", "code", "target"),
    [
        ([("colour", "blue")], "262179", "colour"),
        ([("state", "cancelled")], "2", "state"),
        ([("code", "one")], "2", "code"),
        ([("start_time", ">last week")], "2", "start_time"),
        ([("code", ">")], "2", "code"),
    ],
)
def test_bad_queries_say_what_is_wrong(filters: list[tuple[str, str]], code: str, target: str) -> None:
    with pytest.raises(OntapError) as caught:
        build_query(filters)
    assert caught.value.status == 400 and caught.value.code == code and caught.value.target == target


def test_fields_and_projection() -> None:
    assert parse_fields(None) == set()
    assert parse_fields("*") is None and parse_fields("**") is None
    assert parse_fields("state,svm.name") == {"state", "svm.name"}
    with pytest.raises(OntapError):
        parse_fields("state,colour")
    assert project(RECORD, set()) == {"uuid": "u1", "_links": RECORD["_links"]}
    assert project(RECORD, {"state", "svm.name", "error.code"}) == {
        "uuid": "u1",
        "state": "failure",
        "svm": {"name": "db1"},
        "error": {"code": "1"},
        "_links": RECORD["_links"],
    }
    assert project(RECORD, None) == RECORD


def test_order_by() -> None:
    assert parse_order_by(None) == ("id",)
    assert parse_order_by("start_time desc,uuid") == ("-started_at", "id")
    assert parse_order_by("svm.name asc") == ("target",)
    for bad in ("state", "uuid sideways", "uuid asc extra"):
        with pytest.raises(OntapError):
            parse_order_by(bad)


def test_positions_round_trip_and_refuse_garbage() -> None:
    for position in (Position(), Position("abc=", 7)):
        assert Position.decode(position.encode()) == position
    assert Position.decode(None) == Position()
    for garbage in ("!!!", "e30", "bm90IGpzb24"):
        with pytest.raises(OntapError) as caught:
            Position.decode(garbage)
        assert caught.value.target == "start.cursor"


# --- paging over a real store -------------------------------------------------------------------


@pytest.fixture
def service(tmp_path: Path) -> Iterator[ExecutionService]:
    app = App("q")

    @app.workflow("w.a")
    def a(ctx: Any, params: dict[str, Any]) -> None: ...

    @app.workflow("w.b")
    def b(ctx: Any, params: dict[str, Any]) -> None: ...

    store = SQLiteStore(sqlite_copy(tmp_path / "q.db"))
    yield ExecutionService(store, app, clock=ManualClock(datetime(2026, 3, 1, tzinfo=UTC)))
    store.close()


def populate(service: ExecutionService) -> None:
    """40 jobs: every third cancelled long ago (hidden), every fifth cancelled just now, the rest waiting."""
    clock = service.clock
    assert isinstance(clock, ManualClock)
    ids = [
        service.start(StartRequest("w.a" if i % 2 else "w.b", target=f"t{i % 4}", queue=True)).id
        for i in range(40)
    ]
    for i, uuid in enumerate(ids):
        if i % 3 == 0:
            service.cancel(uuid)
    clock.advance(600)
    for i, uuid in enumerate(ids):
        if i % 5 == 0 and i % 3:
            service.cancel(uuid)


def expected(service: ExecutionService, filters: list[tuple[str, str]]) -> list[str]:
    everything = service.list(build_query([]).store_filter, sort=("id",), limit=1000).items
    query = build_query(filters)
    now = service.clock.now()
    return [e.id for e in everything if visible(e, now) and query.matches(job_record(e))]


@pytest.mark.parametrize(
    "filters",
    [[], [("state", "failure")], [("description", "w.a")], [("svm.name", "t1|t2*"), ("state", "queued")],
     [("description", "*a"), ("code", "0")]],
)  # fmt: skip
@pytest.mark.parametrize(("limit", "budget"), [(1, None), (3, None), (7, 2), (100, 5), (2, 1)])
def test_paging_hands_out_every_match_once_in_order(
    service: ExecutionService, filters: list[tuple[str, str]], limit: int, budget: int | None
) -> None:
    populate(service)
    want = expected(service, filters)
    assert want  # the filters do match something
    query = build_query(filters)
    got: list[str] = []
    position: Position | None = Position()
    pages = 0
    while position is not None:
        page = scan(service, query, start=Position.decode(position.encode()), limit=limit, budget=budget)
        assert len(page.jobs) <= limit
        got.extend(e.id for e, _ in page.jobs)
        position = page.next
        pages += 1
        assert pages < 200
    assert got == want
    assert count(service, query) == len(want)


def test_counts_by_the_store_and_by_rows_agree(service: ExecutionService) -> None:
    populate(service)
    exact = build_query([("state", "failure|queued")])
    residual = build_query([("state", "failure|queued"), ("message", "*")])
    assert exact.exact and not residual.exact
    assert count(service, exact) == count(service, residual) == len(expected(service, [("state", "!null")]))
    assert count(service, build_query([("state", "success")])) == 0


def _regex_oracle(pattern: str, text: str) -> bool:
    """What ONTAP's `*` means, as a (backtracking) regular expression: fine for tiny inputs."""
    return re.fullmatch(".*".join(re.escape(p) for p in pattern.split("*")), text, re.DOTALL) is not None


def test_wildcards_match_exactly_what_the_regular_expression_meant() -> None:
    alphabet = "ab*"
    patterns = ["".join(p) for n in range(1, 6) for p in itertools.product(alphabet, repeat=n)]
    texts = ["".join(t) for n in range(0, 6) for t in itertools.product("ab", repeat=n)]
    for pattern in patterns:
        if "*" not in pattern:
            continue
        wildcard = Wildcard.of(pattern)
        for text in texts:
            assert wildcard.fullmatch(text) == _regex_oracle(pattern, text), (pattern, text)


def test_a_pattern_of_many_stars_is_decided_in_linear_time() -> None:
    wildcard = Wildcard.of("*" * 5000 + "z")
    text = "0189f0e2-7c3d-7a4b-9e5f-1a2b3c4d5e6f" * 100
    began = time.monotonic()
    for _ in range(100):
        assert not wildcard.fullmatch(text)
    assert time.monotonic() - began < 1.0
