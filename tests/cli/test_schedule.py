"""`conveyor schedule ...` against the real API server, through typer's CliRunner."""

from __future__ import annotations

import json
from collections.abc import Callable

from typer.testing import Result

from conveyor.cli.output import when
from conveyor.core.schedules import Schedule
from tests.client.live import Live

Cli = Callable[..., Result]


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def only(live: Live) -> Schedule:
    (s,) = live.store.schedule_list()
    return s


def add(cli: Cli, *args: str) -> str:
    doc = json.loads(ok(cli("schedule", "add", *args, "--json")).stdout)
    return str(doc["id"])


def test_add_with_a_cron_in_a_zone_and_parameters(cli: Cli, live: Live) -> None:
    result = ok(
        cli(
            "schedule",
            "add",
            "demo.count",
            "--cron",
            "*/5 * * * *",
            "--tz",
            "Europe/Berlin",
            "--param",
            "n=1",
        )
    )
    s = only(live)
    assert (s.workflow, s.parameters, s.owner) == ("demo.count", {"n": 1}, "anonymous")
    assert (s.trigger.kind, s.trigger.value, s.trigger.timezone) == ("cron", "*/5 * * * *", "Europe/Berlin")
    first, second = result.stdout.splitlines()
    assert first == f"created schedule {s.id} of demo.count: cron '*/5 * * * *' (Europe/Berlin)"
    assert second.startswith(f"next fires: {when(s.next_fire_at)}, ") and second.count(", ") == 2


def test_add_every_option_and_json(cli: Cli, live: Live) -> None:
    args = [
        "demo.backup", "--rate", "90s", "--params-json", '{"full": true}', "-p", "label=weekly",
        "--trigger-params", '{"jelastic": 1}', "--target", "db1", "--description", "often",
        "--misfire", "fire_all", "--misfire-limit", "4", "--grace", "5", "--overlap", "queue",
        "--priority", "9", "--dry-run", "--disabled",
    ]  # fmt: skip
    doc = json.loads(ok(cli("schedule", "add", *args, "--json")).stdout)
    expected = {
        "workflow": "demo.backup", "parameters": {"full": True, "label": "weekly"}, "params": {"jelastic": 1},
        "target": "db1", "description": "often", "misfire": "fire_all", "misfire_limit": 4, "grace": 5.0,
        "overlap": "queue", "priority": 9, "dry_run": True, "enabled": False, "next_fire_times": [],
    }  # fmt: skip
    assert {k: doc[k] for k in expected} == expected
    assert doc["trigger"]["text"] == "rate:90" and doc["trigger"]["description"] == "every 90 s"
    assert doc["id"] == only(live).id


def test_other_triggers(cli: Cli, live: Live) -> None:
    add(cli, "demo.backup", "--oninit")
    add(cli, "demo.backup", "--once-delay", "10s")
    add(cli, "demo.backup", "--date", "2099-01-01T10:00:00", "--tz", "Europe/Berlin")
    add(cli, "demo.backup", "--trigger", "cron:0 0/5 * * * ?")
    texts = [s.trigger.to_text() for s in live.store.schedule_list()]
    assert texts == ["oninit:", "once_delay:10", "date:2099-01-01T09:00:00Z", "cron:0 0/5 * * * ?"]


def test_usage_mistakes_exit_2_and_send_nothing(cli: Cli, live: Live) -> None:
    result = cli("schedule", "add", "demo.count")
    assert result.exit_code == 2
    assert "give exactly one trigger: --cron EXPR, --rate 30s" in result.stderr
    assert result.stderr.rstrip().endswith("(got none)")
    result = cli("schedule", "add", "demo.count", "--cron", "* * * * *", "--rate", "1m")
    assert result.exit_code == 2 and "(got --cron and --rate)" in result.stderr
    result = cli("schedule", "add", "demo.count", "--rate", "1m", "--param", "oops")
    assert result.exit_code == 2 and "--param expects KEY=VALUE" in result.stderr
    result = cli("schedule", "add", "demo.count", "--rate", "1m", "--trigger-params", "[1]")
    assert result.exit_code == 2 and "--trigger-params must be a JSON object" in result.stderr
    assert live.log.count("POST", "/api/v1/schedules") == 0


def test_what_the_server_refuses_exits_1_with_its_message(cli: Cli, live: Live) -> None:
    result = cli("schedule", "add", "demo.count", "--cron", "61 * * * *")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: invalid cron expression '61 * * * *'")
    result = cli("schedule", "add", "demo.count", "--cron", "0 * * * *", "--tz", "Europe/Berln")
    assert result.exit_code == 1 and "unknown time zone 'Europe/Berln'" in result.stderr
    result = cli("schedule", "add", "demo.count", "--date", "2001-01-01T00:00:00Z")
    assert result.exit_code == 1 and "in the past" in result.stderr
    result = cli("schedule", "add", "nope", "--rate", "1m")
    assert result.exit_code == 1 and "workflow 'nope' is not registered" in result.stderr
    result = cli("schedule", "get", "nope")
    assert result.exit_code == 1 and result.stderr.strip() == "error: schedule 'nope' does not exist"
    assert live.store.schedule_list() == []


def test_list_shows_the_next_three_fire_times(cli: Cli, live: Live) -> None:
    assert "no schedules" in ok(cli("schedule", "list")).stderr
    first = add(cli, "demo.count", "--cron", "*/5 * * * *", "--tz", "Europe/Berlin")
    second = add(cli, "demo.backup", "--rate", "1h", "--target", "db1", "--disabled")
    lines = ok(cli("schedule", "list")).stdout.splitlines()
    assert lines[0].split() == [
        "id",
        "workflow",
        "trigger",
        "enabled",
        "next",
        "fires",
        "last",
        "fired",
        "fires",
    ]
    row1, row2 = lines[1:]
    upcoming = json.loads(ok(cli("schedule", "get", first, "--json")).stdout)["next_fire_times"]
    assert len(upcoming) == 3
    times = ", ".join(when(t) for t in upcoming)
    assert row1.startswith(first) and "cron '*/5 * * * *' (Europe/Berlin)" in row1 and " yes " in row1
    assert times in row1 and row1.split()[-1] == "0"
    assert row2.startswith(second) and "demo.backup @ db1" in row2 and "every 1 h" in row2
    assert " no " in row2
    docs = json.loads(ok(cli("schedule", "list", "--json")).stdout)
    assert [d["id"] for d in docs] == [first, second]
    assert [d["id"] for d in json.loads(ok(cli("--json", "schedule", "list", "--target", "db1")).stdout)] == [
        second
    ]
    assert len(json.loads(ok(cli("schedule", "list", "-n", "1", "--json")).stdout)) == 1


def test_get_shows_one_schedule(cli: Cli) -> None:
    sid = add(cli, "demo.count", "--rate", "30m", "-p", "n=2", "--description", "half-hourly")
    text = ok(cli("schedule", "get", sid)).stdout
    for expected in ("every 30 min", "rate:1800", '{"n": 2}', "half-hourly", "anonymous", "skip", "allow"):
        assert expected in text, text
    assert json.loads(ok(cli("schedule", "get", sid, "--json")).stdout)["id"] == sid


def test_edit_changes_only_what_is_given(cli: Cli, live: Live) -> None:
    sid = add(cli, "demo.count", "--rate", "1h", "-p", "n=1", "--target", "db1", "--description", "a")
    result = ok(cli("schedule", "edit", sid, "--cron", "0 3 * * *", "--tz", "Europe/Berlin", "--no-target"))
    assert (
        result.stdout.splitlines()[0]
        == f"changed schedule {sid} of demo.count: cron '0 3 * * *' (Europe/Berlin)"
    )
    s = only(live)
    assert (s.target, s.description, s.parameters) == (None, "a", {"n": 1})
    ok(cli("schedule", "edit", sid, "-p", "n=5", "--priority", "2", "--dry-run"))
    s = only(live)
    assert (s.parameters, s.priority, s.dry_run) == ({"n": 5}, 2, True)
    result = ok(cli("schedule", "edit", sid, "--disable"))
    assert "disabled: it does not fire" in result.stdout and only(live).enabled is False

    result = cli("schedule", "edit", sid)
    assert result.exit_code == 2 and "nothing to change" in result.stderr
    result = cli("schedule", "edit", sid, "--cron", "* *")
    assert result.exit_code == 1 and "has 2 field(s)" in result.stderr
    assert only(live).trigger.value == "0 3 * * *"


def test_enable_disable_delete(cli: Cli, live: Live) -> None:
    a, b = add(cli, "demo.backup", "--rate", "1h"), add(cli, "demo.backup", "--rate", "1h")
    assert "disabled: it does not fire" in ok(cli("schedule", "disable", a)).stdout
    assert ok(cli("schedule", "enable", a)).stdout.splitlines()[1].startswith("next fires: ")
    assert json.loads(ok(cli("schedule", "disable", a, "--json")).stdout)["enabled"] is False

    result = cli("schedule", "delete", a, "nope")
    assert result.exit_code == 1 and "schedule 'nope' does not exist" in result.stderr
    assert len(live.store.schedule_list()) == 2
    assert "deleted 2 schedule(s)" in ok(cli("schedule", "delete", a, b)).stderr
    assert live.store.schedule_list() == []


def test_unschedule_all_then_reschedule_all(cli: Cli, live: Live) -> None:
    on = [add(cli, "demo.backup", "--rate", "1h") for _ in range(2)]
    off = add(cli, "demo.backup", "--rate", "1h", "--disabled")
    assert "stopped 2 schedule(s)" in ok(cli("schedule", "unschedule-all")).stderr
    assert not any(s.enabled for s in live.store.schedule_list())
    assert json.loads(ok(cli("schedule", "reschedule-all", "--json")).stdout) == {"count": 2}
    assert [s.id for s in live.store.schedule_list() if s.enabled] == on
    assert [s.enabled for s in live.store.schedule_list(ids=[off])] == [False]


def test_help_lists_the_commands(cli: Cli) -> None:
    text = ok(cli("schedule", "--help")).stdout
    for name in (
        "add",
        "list",
        "get",
        "edit",
        "delete",
        "enable",
        "disable",
        "unschedule-all",
        "reschedule-all",
    ):
        assert name in text
