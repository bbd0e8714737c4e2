"""Every public route, fuzzed from the OpenAPI document: whatever a caller sends, never a server error.

Schemathesis generates requests that fit the schema and requests that break
it (wrong types, missing fields, odd strings), on both stores; the only check
is the one a user relies on: the server answers them with a 2xx or a coded 4xx,
never a 5xx. The example count is kept small (EXAMPLES of each kind per route and
store, a new random draw each run) so the run stays within seconds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode

from conveyor.api import create_app
from conveyor.core.executions import ExecutionService, StartRequest
from conveyor.store import open_store
from tests.databases import STORES, database

from .conftest import make_catalog

#: Requests of each kind (fitting the schema, breaking it) per route; generating them is most of the time.
EXAMPLES = 6


@pytest.mark.parametrize("kind", STORES)
def test_no_route_answers_a_server_error(kind: str, tmp_path: Path) -> None:
    with database(kind, tmp_path) as url:
        store = open_store(url)
        try:
            service = ExecutionService(store, make_catalog())
            # Something to find, so that reads by id and actions meet real rows too.
            service.start(StartRequest("demo.count", parameters={"n": 1}, queue=True))
            app = create_app(service, auth_mode="open", version="9.9.9")
            schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
            operations = [result.ok() for result in schema.get_all_operations()]
            assert len(operations) > 40, "the OpenAPI document lost its routes"
            sent = sum(fuzz(operation) for operation in operations)
            assert sent > EXAMPLES * len(operations), "the fuzzer barely sent anything"
        finally:
            store.close()


def fuzz(operation: Any) -> int:
    """Requests that fit the schema and requests that break it; answers how many were sent."""
    sent = 0
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def no_server_error(case: schemathesis.Case) -> None:
            nonlocal sent
            sent += 1
            case.call_and_validate(checks=[not_a_server_error])

        try:
            no_server_error()
        except Unsatisfiable:  # a route without parameters or body has nothing to break
            assert mode is GenerationMode.NEGATIVE
    return sent
