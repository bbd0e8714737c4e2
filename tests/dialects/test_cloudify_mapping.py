"""The Cloudify dialect's pure parts: the status table, the update guard, error mapping, views, queries,
and the restore paths through the state machine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from conveyor.core.errors import (
    Conflict,
    ConveyorError,
    ExistingRunningExecution,
    Forbidden,
    IllegalTransition,
    InvalidParameters,
    InvalidRequest,
    NotFound,
    Unauthorized,
    UnknownWorkflow,
)
from conveyor.core.groups import group_status as core_group_status
from conveyor.core.model import ACTIVE, TERMINAL, WAITING, ErrorInfo, Execution, Status
from conveyor.dialects.cloudify import statuses
from conveyor.dialects.cloudify.deps import boolean, instant, integer
from conveyor.dialects.cloudify.errors import CloudifyError, from_conveyor
from conveyor.dialects.cloudify.query import execution_query, sort_keys, window
from conveyor.dialects.cloudify.restore import HOLDER, _reach
from conveyor.dialects.cloudify.views import error_text, execution_view, parse_include, timestamp

S = Status
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

#: The documented table, spelled out once more so a change to it is a deliberate one.
EXPECTED = {
    S.CREATED: ("pending", "pending"),
    S.SCHEDULED: ("scheduled", "scheduled"),
    S.QUEUED: ("queued", "queued"),
    S.PENDING: ("pending", "pending"),
    S.RUNNING: ("started", "started"),
    S.PAUSING: ("cancelling", "cancelling"),
    S.PAUSED: ("cancelled", "cancelled"),
    S.CANCELLING: ("cancelling", "cancelling"),
    S.FORCE_CANCELLING: ("force_cancelling", "force_cancelling"),
    S.KILL_CANCELLING: ("kill_cancelling", "kill_cancelling"),
    S.SUCCEEDED: ("terminated", "completed"),
    S.FAILED: ("failed", "failed"),
    S.CANCELLED: ("cancelled", "cancelled"),
}


def execution(status: Status = S.QUEUED, **changes: object) -> Execution:
    return Execution(id="e1", workflow="wf", status=status, created_at=NOW, target="dep").evolve(**changes)


# --- statuses ------------------------------------------------------------------------------


def test_the_table_covers_every_canonical_status() -> None:
    assert set(statuses.TO_CLOUDIFY) == set(Status) == set(EXPECTED)


@pytest.mark.parametrize("status", list(Status))
def test_each_canonical_status_is_shown_as_documented(status: Status) -> None:
    shown, display = EXPECTED[status]
    doc = execution_view(execution(status))
    assert (doc["status"], doc["status_display"]) == (shown, display)
    assert shown in statuses.CLOUDIFY_STATUSES


@pytest.mark.parametrize("status", list(Status))
def test_ended_running_and_waiting_keep_their_meaning(status: Status) -> None:
    shown = statuses.to_cloudify(status)
    if status in TERMINAL or status is S.PAUSED:  # paused: stopped, resumable, like Cloudify's cancelled
        assert shown in statuses.END_STATES
    elif status in ACTIVE:
        assert shown in statuses.IN_PROGRESS_STATES
    else:
        assert status in WAITING and shown in statuses.WAITING_STATES | {statuses.PENDING}


def test_every_cloudify_status_is_reachable_and_round_trips() -> None:
    assert set(statuses.TO_CLOUDIFY.values()) == set(statuses.CLOUDIFY_STATUSES)
    for name in statuses.CLOUDIFY_STATUSES:
        assert statuses.to_cloudify(statuses.FROM_CLOUDIFY[name]) == name


def test_filters_match_every_status_shown_that_way() -> None:
    assert statuses.shown_as("cancelled") == (S.PAUSED, S.CANCELLED)
    assert statuses.shown_as("pending") == (S.CREATED, S.PENDING)
    assert statuses.matching(["terminated", "started"]) == (S.RUNNING, S.SUCCEEDED)
    assert statuses.matching(["bogus"]) == ()


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        ([], None),
        ([S.PENDING, S.PENDING], "pending"),
        ([S.CREATED], "pending"),
        ([S.QUEUED, S.PENDING, S.SCHEDULED], "queued"),
        ([S.RUNNING, S.QUEUED], "started"),
        ([S.SUCCEEDED, S.QUEUED], "started"),
        ([S.SUCCEEDED, S.FAILED, S.CANCELLED], "failed"),
        ([S.SUCCEEDED, S.CANCELLED], "terminated"),
        ([S.CANCELLED], "terminated"),
        ([S.SUCCEEDED], "terminated"),
    ],
)
def test_group_status_in_cloudify_words(members: list[Status], expected: str | None) -> None:
    assert statuses.group_status(core_group_status(members), members) == expected


def test_the_group_table_covers_every_core_group_status() -> None:
    produced = {core_group_status(ms) for ms in ([S.QUEUED], [S.RUNNING], [S.FAILED], [S.CANCELLED], [])}
    assert produced == set(statuses.GROUP_TO_CLOUDIFY)


# --- the PATCH guard -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "new", "refused"),
    [
        ("started", "started", False),
        ("terminated", "terminated", False),
        ("terminated", "started", True),
        ("failed", "queued", True),
        ("cancelled", "pending", True),
        ("cancelling", "pending", True),
        ("cancelling", "started", True),
        ("cancelling", "force_cancelling", True),
        ("cancelling", "kill_cancelling", True),
        ("cancelling", "terminated", True),
        ("cancelling", "cancelled", False),
        ("cancelling", "failed", False),
        ("force_cancelling", "cancelling", True),
        ("force_cancelling", "terminated", True),
        ("force_cancelling", "cancelled", False),
        ("kill_cancelling", "started", False),
        ("queued", "terminated", False),
        ("scheduled", "started", False),
        ("pending", "started", False),
        ("started", "terminated", False),
    ],
)
def test_update_guard_follows_the_manager(current: str, new: str, refused: bool) -> None:
    assert statuses.update_refused(current, new, "wf") is refused


def test_create_snapshot_may_update_an_ended_execution() -> None:
    assert statuses.update_refused("failed", "started", "create_snapshot") is False


# --- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (NotFound("execution", "x"), 404, "not_found_error"),
        (UnknownWorkflow("wf", []), 400, "nonexistent_workflow_error"),
        (InvalidParameters("wf", [{"loc": ["n"], "msg": "bad"}]), 400, "illegal_execution_parameters_error"),
        (InvalidRequest("no"), 400, "bad_parameters_error"),
        (ExistingRunningExecution("dep", "busy"), 400, "existing_running_execution_error"),
        (IllegalTransition("e", "succeeded", "RequestCancel"), 400, "illegal_action_error"),
        (IllegalTransition("e", "running", "Resume"), 409, "conflict_error"),
        (IllegalTransition("e", "queued", "Report"), 400, "invalid_exception_status_update"),
        (IllegalTransition("e", "running", "Requeue"), 400, "illegal_action_error"),
        (Conflict("no"), 409, "conflict_error"),
        (Unauthorized("no"), 401, "unauthorized_error"),
        (Forbidden("no"), 403, "forbidden_error"),
        (ConveyorError("boom"), 500, "internal_server_error"),
    ],
)
def test_core_errors_get_the_managers_codes(exc: ConveyorError, status: int, code: str) -> None:
    got_status, got_code, message = from_conveyor(exc)
    assert (got_status, got_code) == (status, code) and message


@pytest.mark.parametrize(
    ("kind", "model"),
    [("execution", "Execution"), ("execution group", "ExecutionGroup"), ("target", "Deployment"),
     ("target group", "DeploymentGroup")],
)  # fmt: skip
def test_not_found_names_the_cloudify_model(kind: str, model: str) -> None:
    assert from_conveyor(NotFound(kind, "x"))[2] == f"Requested `{model}` with ID `x` was not found"


# --- views ---------------------------------------------------------------------------------------


def test_timestamps_are_utc_milliseconds_with_z() -> None:
    assert timestamp(datetime(2024, 8, 12, 10, 0, 0, 123456, tzinfo=UTC)) == "2024-08-12T10:00:00.123Z"
    plus_two = timezone(timedelta(hours=2))
    assert timestamp(datetime(2024, 8, 12, 12, 0, tzinfo=plus_two)) == "2024-08-12T10:00:00.000Z"
    assert timestamp(None) is None


def test_error_text() -> None:
    assert error_text(None) == ""
    assert error_text(ErrorInfo("Error", "disk full")) == "disk full"
    assert error_text(ErrorInfo("WorkerLost", "gone")) == "WorkerLost: gone"
    assert error_text(ErrorInfo("ValueError", "boom", "Traceback ...\nValueError: boom")).endswith("boom")


def test_include_refuses_unknown_fields() -> None:
    assert parse_include(["id,status", "status"], ("id", "status")) == ("id", "status")
    assert parse_include([], ("id",)) is None
    with pytest.raises(CloudifyError) as err:
        parse_include(["id,colour"], ("id", "status"))
    assert err.value.error_code == "no_such_include_field_error" and "colour" in err.value.message


def test_execution_view_fields() -> None:
    doc = execution_view(execution(S.SUCCEEDED, is_system=True), lambda t: f"bp-{t}")
    assert doc["deployment_id"] == "dep" and doc["blueprint_id"] == "bp-dep"
    assert doc["is_system_workflow"] is True and doc["error"] == "" and doc["parameters_p"] is None
    assert execution_view(execution(target=None))["blueprint_id"] is None


# --- queries and values ----------------------------------------------------------------------------


def test_execution_query_reads_filters_sort_and_window() -> None:
    q = execution_query(
        [("status", "terminated"), ("status", "cancelled"), ("deployment_id", "a"), ("_sort", "-created_at"),
         ("_offset", "10"), ("_size", "5"), ("_include_system_workflows", "False"), ("tenant_name", "t")]
    )  # fmt: skip
    assert q.flt.statuses == (S.PAUSED, S.SUCCEEDED, S.CANCELLED)
    assert q.flt.targets == ("a",) and q.flt.is_system is False
    assert q.sort == ("-created_at",) and (q.window.offset, q.window.size) == (10, 5)
    assert execution_query([("_include_system_workflows", "True")]).flt.is_system is None
    assert execution_query([], system_default=False).flt.is_system is None
    assert execution_query([("status", "bogus")]).nothing is True
    assert execution_query([]).sort == ("created_at",)


@pytest.mark.parametrize(
    "params",
    [[("colour", "red")], [("_sort", "colour")], [("_offset", "-1")], [("_size", "many")],
     [("is_dry_run", "maybe")]],
)  # fmt: skip
def test_bad_queries_are_bad_parameters(params: list[tuple[str, str]]) -> None:
    with pytest.raises(CloudifyError) as err:
        execution_query(params)
    assert err.value.status_code == 400 and err.value.error_code == "bad_parameters_error"


def test_window_caps_the_size_and_sort_keys_map_fields() -> None:
    assert window([("_size", "5000")]).size == 1000
    assert sort_keys([("_sort", "deployment_id"), ("_sort", "-workflow_id")], {"deployment_id": "target",
                     "workflow_id": "workflow"}, "deployment_id") == ("target", "-workflow")  # fmt: skip


def test_values_cloudify_style() -> None:
    assert boolean("true", "f") is True and boolean("False", "f") is False and boolean(None, "f") is False
    assert integer("7", "n") == 7
    assert instant("2024-08-12T10:00:00", "t") == datetime(2024, 8, 12, 10, tzinfo=UTC)
    for bad in (lambda: boolean("yes", "f"), lambda: integer(True, "n"), lambda: instant("soon", "t"),
                lambda: instant("2024-08-12T10:00:00", "t", naive_is_utc=False)):  # fmt: skip
        with pytest.raises(CloudifyError):
            bad()


# --- restore: every force_status along a legal path, never claimable ------------------------------------


@pytest.mark.parametrize(
    ("force_status", "stored"),
    [
        ("pending", S.CREATED),
        ("queued", S.QUEUED),
        ("scheduled", S.SCHEDULED),
        ("started", S.RUNNING),
        ("cancelling", S.CANCELLING),
        ("force_cancelling", S.FORCE_CANCELLING),
        ("kill_cancelling", S.KILL_CANCELLING),
        ("terminated", S.SUCCEEDED),
        ("failed", S.FAILED),
        ("cancelled", S.CANCELLED),
    ],
)
def test_restore_reaches_each_status_without_a_claimable_step(force_status: str, stored: Status) -> None:
    got = _reach(execution(S.CREATED), force_status, NOW, None)
    assert got.status is stored and statuses.to_cloudify(got.status) == force_status
    assert got.status is not S.PENDING  # a worker claims pending executions
    assert got.scheduled_for is None and got.lease_expires_at is None
    if got.worker_id is not None:
        assert got.worker_id == HOLDER
