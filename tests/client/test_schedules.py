"""`client.schedules` against the real API server, and the request shapes it builds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from conveyor.client import (
    Client,
    InvalidParametersError,
    InvalidRequestError,
    InvalidTriggerError,
    NotFoundError,
    Schedule,
    ScheduleList,
)
from conveyor.client.schedules import changes_body, create_body, delete_call, list_call, trigger_value

from .live import Live

BERLIN = ZoneInfo("Europe/Berlin")
SCHEDULES = "/api/v1/schedules"


# --- request shapes (no server) -------------------------------------------------------------------


def test_exactly_one_trigger_is_required() -> None:
    with pytest.raises(ValueError, match=r"give exactly one trigger: .* \(got none\)"):
        trigger_value()
    with pytest.raises(ValueError, match=r"\(got cron and rate\)"):
        trigger_value(cron="* * * * *", rate="5m")
    with pytest.raises(ValueError, match=r"\(got oninit and trigger\)"):
        trigger_value(oninit=True, trigger="rate:1m")


def test_trigger_values() -> None:
    assert trigger_value(cron="*/5 * * * *") == {"kind": "cron", "value": "*/5 * * * *"}
    assert trigger_value(rate=timedelta(minutes=5)) == {"kind": "rate", "value": 300.0}
    assert trigger_value(rate="30s") == {"kind": "rate", "value": "30s"}
    assert trigger_value(once_delay=10) == {"kind": "once_delay", "value": 10}
    assert trigger_value(oninit=True) == {"kind": "oninit"}
    aware = datetime(2030, 1, 2, 3, 4, 5, tzinfo=BERLIN)
    assert trigger_value(date=aware) == {"kind": "date", "value": "2030-01-02T02:04:05Z"}
    assert trigger_value(date=datetime(2030, 1, 2, 3, 4)) == {"kind": "date", "value": "2030-01-02T03:04:00"}
    assert trigger_value(trigger="cron:0 * * * *") == "cron:0 * * * *"
    assert trigger_value(trigger={"kind": "rate", "value": 1}) == {"kind": "rate", "value": 1}
    with pytest.raises(TypeError):
        trigger_value(rate=True)


def test_bodies_and_calls() -> None:
    options = {"cron": "0 3 * * *", "timezone": "Europe/Berlin", "oninit": False, "priority": None}
    body = create_body("backup", {**options, "description": "", "parameters": {"db": "x"}})
    assert body == {
        "workflow": "backup",
        "trigger": {"kind": "cron", "value": "0 3 * * *"},
        "timezone": "Europe/Berlin",
        "description": "",
        "parameters": {"db": "x"},
    }
    assert changes_body({"target": None, "rate": "1m"}) == {
        "target": None,
        "trigger": {"kind": "rate", "value": "1m"},
    }
    with pytest.raises(TypeError, match="cannot change owner"):
        changes_body({"owner": "x"})
    with pytest.raises(ValueError, match="nothing to change"):
        changes_body({})
    with pytest.raises(ValueError, match="exactly one trigger"):
        changes_body({"cron": "* * * * *", "date": "2030-01-01T00:00:00Z"})
    call = list_call(owner="alice", target=None, ids=["a", "b"], limit=10, cursor="c")
    assert (call.method, call.path, call.params) == (
        "GET",
        "/schedules",
        {"limit": "10", "owner": "alice", "cursor": "c", "ids": "a,b"},
    )
    assert delete_call(["a", "b"]).params == {"ids": "a,b"}
    for bad in ([], ["a,b"], [""]):
        with pytest.raises(ValueError):
            delete_call(bad)


# --- against the server -----------------------------------------------------------------------


def test_create_and_get(client: Client, live: Live) -> None:
    s = client.schedules.create(
        "demo.count",
        cron="*/5 * * * *",
        timezone="Europe/Berlin",
        parameters={"n": 4},
        target="db1",
        description="every five minutes",
        params={"k": "v"},
        misfire="fire_once",
        overlap="skip",
        priority=2,
    )
    assert isinstance(s, Schedule)
    assert (s.workflow, s.parameters, s.target, s.description, s.params) == (
        "demo.count",
        {"n": 4},
        "db1",
        "every five minutes",
        {"k": "v"},
    )
    assert (s.trigger_kind, s.trigger_text, s.timezone) == ("cron", "cron:*/5 * * * *", "Europe/Berlin")
    assert s.trigger_description == "cron '*/5 * * * *' (Europe/Berlin)"
    assert (s.owner, s.enabled, s.suspended, s.misfire, s.overlap, s.priority) == (
        "anonymous",
        True,
        False,
        "fire_once",
        "skip",
        2,
    )
    assert (s.fire_count, s.last_fired_at, s.last_execution_id, s.last_error) == (0, None, None, None)
    times = s.next_fire_times
    assert len(times) == 3 and all(t.tzinfo is not None for t in times)
    assert [t - times[0] for t in times] == [timedelta(0), timedelta(minutes=5), timedelta(minutes=10)]
    assert all(t.astimezone(BERLIN).minute % 5 == 0 and t.second == 0 for t in times)
    assert s.next_fire_at == times[0] and s.created_at is not None and times[0] > s.created_at
    assert client.schedules.get(s.id) == s


def test_every_way_to_give_a_trigger(client: Client) -> None:
    soon = datetime.now(UTC) + timedelta(hours=1)
    made = [
        client.schedules.create("demo.backup", rate=timedelta(minutes=5)),
        client.schedules.create("demo.backup", once_delay="10s"),
        client.schedules.create("demo.backup", date=soon),
        client.schedules.create("demo.backup", oninit=True),
        client.schedules.create("demo.backup", trigger="rate:30s"),
        client.schedules.create(
            "demo.backup", trigger={"kind": "cron", "value": "0 9 * * *"}, timezone="Asia/Tokyo"
        ),
    ]
    texts = [s.trigger_text for s in made]
    assert texts[:2] == ["rate:300", "once_delay:10"]
    assert texts[2] == "date:" + soon.isoformat().replace("+00:00", "Z")
    assert texts[3:] == ["oninit:", "rate:30", "cron:0 9 * * *"]
    assert made[3].next_fire_times == [] and made[3].next_fire_at is None
    assert len(made[1].next_fire_times) == 1
    assert all(t.astimezone(ZoneInfo("Asia/Tokyo")).hour == 9 for t in made[5].next_fire_times)


def test_refusals_raise_typed_errors_and_store_nothing(client: Client, live: Live) -> None:
    with pytest.raises(ValueError, match="exactly one trigger"):
        client.schedules.create("demo.count")
    with pytest.raises(ValueError, match="got cron and oninit"):
        client.schedules.create("demo.count", cron="* * * * *", oninit=True)
    assert live.log.count("POST", SCHEDULES) == 0  # refused before any request

    with pytest.raises(InvalidTriggerError, match="unknown time zone 'Europe/Berln'") as bad_zone:
        client.schedules.create("demo.count", cron="0 * * * *", timezone="Europe/Berln")
    assert (bad_zone.value.status_code, bad_zone.value.code) == (400, "invalid_trigger")
    assert isinstance(bad_zone.value, InvalidRequestError)
    with pytest.raises(InvalidTriggerError, match="in the past"):
        client.schedules.create("demo.count", date=datetime(2020, 1, 1, tzinfo=UTC))
    with pytest.raises(InvalidTriggerError, match="must be positive"):
        client.schedules.create("demo.count", rate=0)
    with pytest.raises(NotFoundError) as unknown:
        client.schedules.create("nope", rate="1m")
    assert unknown.value.code == "unknown_workflow"
    with pytest.raises(InvalidParametersError):
        client.schedules.create("demo.count", rate="1m", parameters={"n": -1})
    with pytest.raises(NotFoundError, match="schedule 'nope' does not exist"):
        client.schedules.get("nope")
    assert list(client.schedules.list()) == []


def test_list_is_lazy_and_pages(client: Client, live: Live) -> None:
    ids = [
        client.schedules.create("demo.backup", rate="1h", target="db1" if i < 2 else None).id
        for i in range(5)
    ]
    query = client.schedules.list(page_size=2)
    assert isinstance(query, ScheduleList)
    assert live.log.count("GET", SCHEDULES) == 0
    assert [s.id for s in query] == ids
    assert live.log.count("GET", SCHEDULES) == 3
    assert [s.id for s in client.schedules.list(limit=3, page_size=2)] == ids[:3]
    assert [s.id for s in client.schedules.list(target="db1")] == ids[:2]
    assert [s.id for s in client.schedules.list(owner="anonymous")] == ids
    assert list(client.schedules.list(owner="someone else")) == []
    assert [s.id for s in client.schedules.list(ids=[ids[3], ids[1]])] == [ids[1], ids[3]]
    assert list(client.schedules.list(ids=[])) == []
    first = client.schedules.list().first()
    assert first is not None and first.id == ids[0]
    with pytest.raises(ValueError):
        client.schedules.list(page_size=0)


def test_update_enable_disable_in_place(client: Client) -> None:
    s = client.schedules.create("demo.count", rate="1h", target="db1")
    changed = client.schedules.update(s.id, description="nightly", cron="0 3 * * *", timezone="Europe/Berlin")
    assert changed.description == "nightly" and changed.trigger_text == "cron:0 3 * * *"
    assert all(t.astimezone(BERLIN).hour == 3 for t in changed.next_fire_times)
    assert client.schedules.update(s.id, target=None).target is None

    assert s.disable() is s and s.enabled is False and s.next_fire_times == []
    assert s.description == "nightly"  # the object took the server's answer
    assert s.enable().enabled is True and len(s.next_fire_times) == 3
    assert s.update(priority=7).priority == 7
    assert s.refresh().priority == 7
    with pytest.raises(TypeError, match="cannot change owner"):
        client.schedules.update(s.id, owner="x")
    with pytest.raises(InvalidTriggerError, match="has 3 field"):
        s.update(cron="* * *")
    assert client.schedules.get(s.id).trigger_text == "cron:0 3 * * *"
    with pytest.raises(NotFoundError):
        client.schedules.enable("nope")


def test_delete_many_is_all_or_nothing(client: Client) -> None:
    a, b, c = (client.schedules.create("demo.backup", rate="1h") for _ in range(3))
    with pytest.raises(NotFoundError, match="'nope'"):
        client.schedules.delete(a.id, "nope")
    assert len(list(client.schedules.list())) == 3
    assert client.schedules.delete(a.id, b.id) == 2
    c.delete()
    assert list(client.schedules.list()) == []
    with pytest.raises(ValueError):
        client.schedules.delete()


def test_unschedule_all_then_reschedule_all(client: Client) -> None:
    on = [client.schedules.create("demo.backup", rate="1h") for _ in range(2)]
    off = client.schedules.create("demo.backup", rate="1h", enabled=False)
    assert client.schedules.unschedule_all() == 2
    assert [s.refresh().suspended for s in on] == [True, True] and not any(s.enabled for s in on)
    assert client.schedules.reschedule_all() == 2
    assert [s.refresh().enabled for s in on] == [True, True]
    assert off.refresh().enabled is False
