"""The Jelastic wire format, task mapping and batch planning (pure: no server)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from conveyor.api.auth import ANONYMOUS
from conveyor.core.errors import ConveyorError, InvalidRequest, InvalidTrigger
from conveyor.core.ids import new_id
from conveyor.core.schedules import Schedule
from conveyor.core.triggers import Trigger
from conveyor.dialects.jelastic import batch, scheduler, wire
from conveyor.dialects.jelastic.routes import method_key

NOW = datetime(2026, 1, 1, tzinfo=UTC)


# --- triggers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "value", "back"),
    [
        ("cron:0 0/5 * * * ?", "cron", "0 0/5 * * * ?", "cron:0 0/5 * * * ?"),
        ("cron:*/5 * * * *", "cron", "*/5 * * * *", "cron:*/5 * * * *"),
        ("once_delay:1000", "once_delay", "1", "once_delay:1000"),
        ("once_delay:1500", "once_delay", "1.5", "once_delay:1500"),
        ("once_delay:10s", "once_delay", "10", "once_delay:10000"),
        ("rate:60000", "rate", "60", "rate:60000"),
        ("rate:PT5M", "rate", "300", "rate:300000"),
        ("date:2026-12-01T10:00:00Z", "date", "2026-12-01T10:00:00Z", "date:2026-12-01T10:00:00Z"),
        ("date:1796119200000", "date", "2026-12-01T10:00:00Z", "date:2026-12-01T10:00:00Z"),
        ("oninit", "oninit", "", "oninit"),
        ("oninit:", "oninit", "", "oninit"),
        ("ONINIT", "oninit", "", "oninit"),
        ('{"cron": "0 0 3 * * ?"}', "cron", "0 0 3 * * ?", "cron:0 0 3 * * ?"),
    ],
)
def test_triggers_read_and_write_in_jelastic_terms(text: str, kind: str, value: str, back: str) -> None:
    trigger = wire.parse_jelastic_trigger(text)
    assert (trigger.kind, trigger.value, trigger.timezone) == (kind, value, "UTC")
    assert wire.trigger_text(trigger) == back
    assert wire.parse_jelastic_trigger(back) == trigger


def test_a_batch_may_pass_the_trigger_as_an_object() -> None:
    assert wire.parse_jelastic_trigger({"once_delay": 2000}) == Trigger("once_delay", "2")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "'trigger' is required"),
        ("every minute", "has no type"),
        ("hourly:1", "unknown trigger type 'hourly'"),
        ("cron:", "needs a value"),
        ("cron:0 0 12 1 * MON", "day-of-month"),
        ("rate:30", r"rate:30 \(milliseconds\)"),
        ("once_delay:-5", "must not be negative"),
        ("date:99999999999999999999", "epoch in milliseconds"),
        ("date:tomorrow", "ISO-8601"),
        ("oninit:now", "takes no value"),
        ('{"a": 1, "b": 2}', "exactly one type"),
    ],
)
def test_bad_triggers_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(InvalidTrigger, match=message):
        wire.parse_jelastic_trigger(text)


# --- parameters --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("True", True),
        ("true", True),
        ("TRUE", True),
        ("1", True),
        ("False", False),
        ("fAlSe", False),
        ("0", False),
        (True, True),
        (False, False),
        (None, None),
        ("", None),
    ],
)
def test_booleans_in_any_case(raw: object, expected: bool | None) -> None:
    params = {} if raw is None else {"sync": raw}
    assert wire.bool_param(params, "sync", default=None) is expected  # type: ignore[arg-type]


def test_a_bad_boolean_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="true or false"):
        wire.bool_param({"sync": "maybe"}, "sync", False)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1,2", ["1", "2"]),
        ("[1, 2]", ["1", "2"]),
        ("['a', 'b']", ["a", "b"]),
        ('["a","b"]', ["a", "b"]),
        ([1, 2], ["1", "2"]),
        ("7", ["7"]),
        ("", []),
        ("[]", []),
        (" 1 , 2 ,", ["1", "2"]),
    ],
)
def test_ids_as_csv_or_lists(raw: object, expected: list[str]) -> None:
    assert wire.list_param({"ids": raw}, "ids") == expected


def test_params_json_object() -> None:
    assert wire.json_object_param({}, "params") is None
    assert wire.json_object_param({"params": "{}"}, "params") == {}
    assert wire.json_object_param({"params": "null"}, "params") == {}
    assert wire.json_object_param({"params": '{"a": [1]}'}, "params") == {"a": [1]}
    assert wire.json_object_param({"params": {"a": 1}}, "params") == {"a": 1}
    with pytest.raises(InvalidRequest, match="not valid JSON"):
        wire.json_object_param({"params": "{a"}, "params")
    with pytest.raises(InvalidRequest, match="must be a JSON object"):
        wire.json_object_param({"params": "[1]"}, "params")


def test_task_ids_are_the_uuid_as_an_integer_and_take_either_form() -> None:
    sid = new_id()
    number = wire.task_id(sid)
    assert isinstance(number, int) and uuid.UUID(int=number) == uuid.UUID(sid)
    assert wire.schedule_id(number) == sid
    assert wire.schedule_id(str(number)) == sid
    assert wire.schedule_id(sid) == sid
    assert wire.schedule_id(sid.replace("-", "").upper()) == sid
    for bad in ("abc", "-1", True, str(1 << 128)):
        with pytest.raises(InvalidRequest, match="is not a task id"):
            wire.schedule_id(bad)


def test_answers_and_result_codes() -> None:
    assert wire.ok(id=1) == {"result": 0, "error": "", "reason": 0, "source": "conveyor", "id": 1}
    assert wire.failure("not_found", "gone")["result"] == 5
    assert wire.failure("forbidden", "no")["result"] == 8202
    assert wire.failure("invalid_trigger", "bad")["result"] == 2
    assert wire.failure("unauthorized", "who")["result"] == 702
    assert wire.failure("something_new", "?")["result"] == 1
    err = wire.failure_of(ConveyorError("boom", {"x": 1}))
    assert err["error"] == "boom" and err["details"] == {"x": 1} and err["code"] == "internal_error"


# --- tasks -------------------------------------------------------------------------------------


def _schedule(**changes: object) -> Schedule:
    base = Schedule(id=new_id(), workflow="w", trigger=Trigger("once_delay", "1"), created_at=NOW)
    return base.evolve(**changes)


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"next_fire_at": NOW}, "scheduled"),
        ({"trigger": Trigger("oninit", "")}, "scheduled"),
        ({"enabled": False, "suspended": True}, "unscheduled"),
        ({"enabled": False}, "disabled"),
        ({"enabled": False, "fire_count": 1}, "done"),
    ],
)
def test_task_status_table(changes: dict[str, object], status: str) -> None:
    assert scheduler.task_status(_schedule(**changes)) == status
    assert status in scheduler.TASK_STATUS


def test_task_document() -> None:
    s = _schedule(target="db1", params={"a": 1}, parameters={"a": 1}, description="d", owner="me")
    doc = scheduler.task_doc(s)
    assert doc["id"] == wire.task_id(s.id) and doc["uuid"] == s.id
    assert (doc["script"], doc["trigger"], doc["envName"], doc["type"]) == (
        "w",
        "once_delay:1000",
        "db1",
        "env",
    )
    assert (doc["params"], doc["description"], doc["owner"]) == ({"a": 1}, "d", "me")


# --- routes and batch --------------------------------------------------------------------------


def test_method_paths_in_any_case() -> None:
    assert method_key("utils/scheduler/rest/gettasks") == "utils.scheduler.gettasks"
    assert method_key("/Utils/Scheduler/REST/GetTasks/") == "utils.scheduler.gettasks"
    assert method_key("utils/batch/rest/call") == "utils.batch.call"
    for bad in ("utils/scheduler/rest/nope", "utils/scheduler/gettasks", "environment/control/rest/getenvs"):
        with pytest.raises(wire.UnknownMethod, match="no Jelastic method"):
            method_key(bad)


def test_batch_plan_reads_alias_global_and_each_form() -> None:
    planned = batch.plan(
        {
            "request": {
                "alias": {"g": "utils.scheduler.GetTasks"},
                "global": {"Session": "s", "appid": "cluster"},
                "methods": [
                    {"g": {"params": {"ids": "1"}}},
                    {"utils.scheduler.DeleteTasks": {"ids": [2]}},
                    {"method": "utils.scheduler.UnscheduleTasks"},
                    {"g": None},
                ],
            }
        }
    )
    assert [(p.name, p.params) for p in planned] == [
        ("utils.scheduler.GetTasks", {"session": "s", "appid": "cluster", "ids": "1"}),
        ("utils.scheduler.DeleteTasks", {"session": "s", "appid": "cluster", "ids": [2]}),
        ("utils.scheduler.UnscheduleTasks", {"session": "s", "appid": "cluster"}),
        ("utils.scheduler.GetTasks", {"session": "s", "appid": "cluster"}),
    ]


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ({}, "'request' is required"),
        ({"methods": []}, "1 to 100 calls"),
        ({"methods": [1]}, r"methods\[0\]"),
        ({"methods": [{"a": 1, "b": 2}]}, "exactly one method"),
        ({"methods": [{"m": {"params": [1]}}]}, "must be a JSON object"),
        ({"alias": [], "methods": [{"m": {}}]}, "alias"),
    ],
)
def test_batch_plan_refuses_a_bad_request(request_: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        batch.plan({"request": request_})


def test_async_batch_calls_translate_to_native_calls() -> None:
    sid = new_id()
    number = wire.task_id(sid)

    def native(name: str, **params: object) -> tuple[str, str, object, object]:
        call = batch.native_call(batch.Planned(0, name, dict(params)), ANONYMOUS)
        return call.method, call.path, call.body, call.query

    assert native("utils.scheduler.GetTasks") == (
        "GET",
        "/schedules",
        None,
        {"limit": 1000, "owner": "anonymous"},
    )
    assert native("utils.scheduler.GetTasks", ids=f"{number}")[3] == {"limit": 1000, "ids": sid}
    assert native("utils.scheduler.DeleteTasks", ids=[number]) == ("DELETE", "/schedules", None, {"ids": sid})
    assert native("utils.scheduler.UnscheduleTasks")[:2] == ("POST", "/schedules:unschedule-all")
    assert native("utils.scheduler.RescheduleTasks")[:2] == ("POST", "/schedules:reschedule-all")
    assert native(
        "utils.scheduler.CreateEnvTask",
        script="w",
        trigger="once_delay:1500",
        envname="db1",
        params='{"a": 1}',
    ) == (
        "POST",
        "/schedules",
        {
            "workflow": "w",
            "trigger": "once_delay:1.5",
            "timezone": "UTC",
            "parameters": {"a": 1},
            "params": {"a": 1},
            "target": "db1",
        },
        None,
    )
    assert native("utils.scheduler.EditTask", id=number, description="d") == (
        "PATCH", f"/schedules/{sid}", {"description": "d"}, None
    )  # fmt: skip
    with pytest.raises(wire.UnknownMethod):
        native("Dev.Scripting.EvalCode")
    with pytest.raises(InvalidRequest, match="another batch"):
        native("utils.batch.Call")
