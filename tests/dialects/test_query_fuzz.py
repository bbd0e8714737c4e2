"""The dialects' query syntaxes, fuzzed: any filter a caller writes gets an answer, never a server error.

Each dialect reads its own query language (ONTAP's `field=<op>value|value*`,
Cloudify's `_sort`/`_size`/`_include` and filters, Jelastic's form parameters),
so the OpenAPI fuzz of the native API does not reach them. Hypothesis builds
queries from each syntax's real pieces mixed with arbitrary text, and every
answer must be a success or the dialect's own coded refusal, within a bound.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conveyor.api import create_app
from conveyor.core.executions import ExecutionService, StartRequest
from conveyor.dialects.cloudify.query import EXECUTION_FILTERS
from conveyor.dialects.jelastic.scheduler import METHODS
from conveyor.dialects.jelastic.wire import INTERNAL_ERROR
from conveyor.dialects.ontap.query import QUERY_FIELDS
from conveyor.store.sqlite import SQLiteStore
from tests.api.conftest import TestClient, make_catalog
from tests.databases import sqlite_copy

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
#: Any text a URL can carry (no lone surrogates) but NUL, which the door refuses for every route alike.
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    path: Path = tmp_path_factory.mktemp("fuzz")
    store = SQLiteStore(sqlite_copy(path / "fuzz.db"))
    service = ExecutionService(store, make_catalog())
    for n in range(5):
        service.start(StartRequest("demo.count", parameters={"n": n}, queue=True))
    with TestClient(create_app(service, auth_mode="open"), base_url="http://testserver") as c:
        yield c
    store.close()


def operand() -> st.SearchStrategy[str]:
    pieces = st.one_of(
        TEXT, st.sampled_from(["*", "**", "null", "success", "running", "1", "-5", "2026-01-01"])
    )
    prefixed = st.tuples(st.sampled_from(["", "!", "<", ">", "<=", ">=", "!*"]), pieces).map("".join)
    return st.lists(prefixed, min_size=1, max_size=4).map("|".join)


ontap_params = st.dictionaries(
    st.one_of(st.sampled_from([*QUERY_FIELDS, "fields", "order_by", "max_records", "return_records"]), TEXT),
    operand(),
    max_size=5,
)


@given(params=ontap_params)
@FUZZ
def test_ontap_queries_never_fail_the_server(client: TestClient, params: dict[str, str]) -> None:
    began = time.monotonic()
    answer = client.get("/api/cluster/jobs", params=params)
    assert answer.status_code < 500, (params, answer.text)
    assert time.monotonic() - began < 2, params
    if answer.status_code >= 400:
        assert answer.json()["error"]["message"], answer.text


cloudify_params = st.dictionaries(
    st.one_of(
        st.sampled_from(
            [*EXECUTION_FILTERS, "_sort", "_size", "_offset", "_include", "_get_all_results", "_search"]
        ),
        TEXT,
    ),
    st.one_of(TEXT, st.sampled_from(["-created_at", "id,status", "true", "0", "-1", "99999999999"])),
    max_size=5,
)


@given(params=cloudify_params)
@FUZZ
def test_cloudify_execution_queries_never_fail_the_server(client: TestClient, params: dict[str, str]) -> None:
    for path in ("/api/v3.1/executions", "/api/v3.1/execution-groups"):
        answer = client.get(path, params=params)
        assert answer.status_code < 500, (path, params, answer.text)


jelastic_params = st.dictionaries(
    st.one_of(st.sampled_from(["ids", "id", "script", "trigger", "params", "description", "envName"]), TEXT),
    st.one_of(
        TEXT,
        st.sampled_from(['{"cron": "0 * * * *"}', '{"rate": 60}', "[1,2]", "1e400", '{"delay": -1}', "{}"]),
    ),
    max_size=5,
)


@given(method=st.sampled_from(sorted(METHODS)), params=jelastic_params)
@FUZZ
def test_jelastic_calls_never_fail_internally(
    client: TestClient, method: str, params: dict[str, str]
) -> None:
    group, cls, name = method.split(".")
    answer = client.post(f"/1.0/{group}/{cls}/rest/{name}", data=params)
    assert answer.status_code < 500
    body: dict[str, Any] = json.loads(answer.text)
    assert body.get("result") != INTERNAL_ERROR, (method, params, body)
