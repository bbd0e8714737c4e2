"""`conveyor target ...`, `conveyor target-group ...` and `conveyor group ...` against the real API server."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from typer.testing import Result

from conveyor.core.executions import StartRequest
from tests.client.live import Live

Cli = Callable[..., Result]


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def fleet(cli: Cli, n: int = 4) -> list[str]:
    names = [f"web{i}" for i in range(n)]
    for i, name in enumerate(names):
        ok(cli("target", "add", name, "--label", "role=web", "--label", f"zone={'a' if i % 2 else 'b'}"))
    ok(cli("target-group", "create", "web", "--label", "role=web"))
    return names


# --- targets ----------------------------------------------------------------------------------


def test_target_add_list_get_edit_delete(cli: Cli, live: Live) -> None:
    added = ok(cli("target", "add", "web1", "-l", "role=web", "-l", "zone:a", "--max-concurrent", "2"))
    assert added.stdout.strip() == "created target web1 (max concurrent 2; labels role=web, zone=a)"
    t = live.store.target_get("web1")
    assert t is not None and (t.max_concurrent, t.labels) == (2, {"role": "web", "zone": "a"})
    ok(cli("target", "add", "db1", "--label", "role=db"))

    table = ok(cli("target", "list")).stdout
    assert "db1" in table and "web1" in table and "role=web, zone=a" in table
    only = json.loads(ok(cli("target", "list", "--label", "role=web", "--json")).stdout)
    assert [x["name"] for x in only] == ["web1"]
    anyzone = json.loads(ok(cli("--json", "target", "list", "--label", "zone")).stdout)
    assert [x["name"] for x in anyzone] == ["web1"]
    assert "no targets match" in ok(cli("target", "list", "-l", "role=cache")).stderr

    assert "max concurrent  2" in ok(cli("target", "get", "web1")).stdout
    assert json.loads(ok(cli("target", "get", "web1", "--json")).stdout)["labels"] == {
        "role": "web",
        "zone": "a",
    }

    edited = json.loads(
        ok(
            cli("target", "edit", "web1", "-m", "3", "--label", "tier=1", "--unlabel", "zone", "--json")
        ).stdout
    )
    assert (edited["max_concurrent"], edited["labels"]) == (3, {"role": "web", "tier": "1"})
    cleared = json.loads(ok(cli("target", "edit", "web1", "--clear-labels", "--json")).stdout)
    assert cleared["labels"] == {}
    assert cli("target", "edit", "web1").exit_code == 2

    assert "deleted target db1" in ok(cli("target", "delete", "db1")).stderr
    assert live.store.target_get("db1") is None


def test_target_refusals(cli: Cli, live: Live) -> None:
    ok(cli("target", "add", "db1"))
    dup = cli("target", "add", "db1")
    assert dup.exit_code == 1 and "already exists" in dup.stderr
    bad = cli("target", "add", "x", "--label", "nolabel")
    assert bad.exit_code == 2 and "KEY=VALUE" in bad.stderr
    missing = cli("target", "get", "ghost")
    assert missing.exit_code == 1 and "'ghost' does not exist" in missing.stderr

    ex = live.service.start(StartRequest("demo.count", target="db1"))
    busy = cli("target", "delete", "db1")
    assert busy.exit_code == 1 and "active execution" in busy.stderr
    ok(cli("target", "delete", "db1", "--force"))
    assert live.store.execution_get(ex.id) is not None


# --- target groups ----------------------------------------------------------------------------


def test_target_group_commands(cli: Cli, live: Live) -> None:
    names = fleet(cli)
    group = live.store.target_group_get("web")
    assert group is not None and list(group.members) == names

    created = ok(cli("target-group", "create", "mixed", "web0", "--label", "zone=a", "-d", "zone a and web0"))
    assert created.stdout.strip() == "created target group mixed: 3 member(s): web0, web1, web3"
    listed = ok(cli("target-group", "list")).stdout
    assert "mixed" in listed and "zone a and web0" in listed
    shown = ok(cli("target-group", "get", "mixed")).stdout
    assert shown.splitlines()[:2] == ["target group mixed: 3 member(s)", "zone a and web0"]
    assert "  web3" in shown

    removed = json.loads(
        ok(cli("target-group", "remove-members", "mixed", "--label", "zone=a", "--json")).stdout
    )
    assert removed["members"] == ["web0"]
    added = ok(cli("target-group", "add-members", "mixed", "web2", "web3")).stdout
    assert added.strip() == "now target group mixed: 3 member(s): web0, web2, web3"
    assert cli("target-group", "add-members", "mixed").exit_code == 2
    unknown = cli("target-group", "add-members", "mixed", "ghost")
    assert unknown.exit_code == 1 and "ghost" in unknown.stderr

    ok(cli("target-group", "delete", "mixed"))
    assert live.store.target_group_get("mixed") is None
    assert [g["name"] for g in json.loads(ok(cli("target-group", "list", "--json")).stdout)] == ["web"]


# --- execution groups -------------------------------------------------------------------------


def test_group_start_list_get_concurrency_cancel(cli: Cli, live: Live) -> None:
    names = fleet(cli)
    started = ok(
        cli("group", "start", "demo.count", "--target-group", "web", "-c", "2", "--param", "n=4",
            "--target-param", "web1:n=9")
    ).stdout  # fmt: skip
    (g,) = live.store.execution_group_list()
    assert started.strip() == (
        f"started execution group {g.id} of demo.count on web: pending (2 queued, 2 pending; concurrency 2)"
    )
    assert (g.concurrency, g.default_parameters, g.parameters) == (2, {"n": 4}, {"web1": {"n": 9}})

    listed = ok(cli("group", "list")).stdout
    assert g.id in listed and "0/4" in listed and "2 queued, 2 pending" in listed
    assert [
        x["id"] for x in json.loads(ok(cli("group", "list", "--workflow", "demo.count", "--json")).stdout)
    ] == [g.id]
    assert json.loads(ok(cli("group", "list", "-g", "other", "--json")).stdout) == []

    shown = ok(cli("group", "get", g.id)).stdout
    rows = {
        line.split("  ")[0]: line.split("  ", 1)[1].strip() for line in shown.splitlines() if "  " in line
    }
    assert rows["target group"] == "web" and rows["per-target parameters"] == '{"web1": {"n": 9}}'
    assert all(name in shown for name in names)
    doc = json.loads(ok(cli("group", "get", g.id, "--json")).stdout)
    assert [m["target"] for m in doc["members"]] == names and doc["status"] == "pending"

    raised = json.loads(ok(cli("group", "concurrency", g.id, "3", "--json")).stdout)
    assert (raised["concurrency"], raised["counts"]) == (3, {"pending": 3, "queued": 1})
    live.claim(doc["execution_ids"][0])
    cancelled = ok(cli("group", "cancel", g.id)).stdout
    assert cancelled.startswith(f"cancel requested for execution group {g.id}")
    assert "3 cancelling, 1 cancelled" in cancelled
    assert "cancelled execution group" in ok(cli("group", "cancel", g.id, "--force")).stdout
    assert cli("group", "cancel", g.id, "--force", "--kill").exit_code == 2


def test_group_start_refusals(cli: Cli) -> None:
    fleet(cli, 2)
    unknown = cli("group", "start", "demo.count", "--target-group", "nope")
    assert unknown.exit_code == 1 and "target group 'nope' does not exist" in unknown.stderr
    bad = cli("group", "start", "demo.count", "-g", "web", "--target-param", "n=3")
    assert bad.exit_code == 2 and "TARGET:KEY=VALUE" in bad.stderr
    stranger = cli("group", "start", "demo.count", "-g", "web", "--target-param", "db9:n=3")
    assert stranger.exit_code == 1 and "outside target group" in stranger.stderr
    assert cli("group", "start", "demo.count").exit_code == 2  # --target-group is required


def test_set_target_groups_and_dump(cli: Cli, live: Live) -> None:
    fleet(cli, 2)
    ok(cli("target-group", "create", "ok"))
    gid = json.loads(ok(cli("group", "start", "demo.count", "-g", "web", "--json")).stdout)["id"]
    doc = json.loads(ok(cli("group", "set-target-groups", gid, "--success-group", "ok", "--json")).stdout)
    assert (doc["success_group"], doc["failed_group"]) == ("ok", None)
    assert cli("group", "set-target-groups", gid).exit_code == 2
    missing = cli("group", "set-target-groups", gid, "--failed-group", "nope")
    assert missing.exit_code == 1 and "'nope' does not exist" in missing.stderr

    lines = ok(cli("group", "dump")).stdout.splitlines()
    assert [json.loads(line)["id"] for line in lines] == [gid]
    assert ok(cli("group", "dump", "unknown")).stdout == ""


@pytest.mark.parametrize("argv", [["group", "get", "nope"], ["group", "concurrency", "nope", "2"]])
def test_unknown_group(cli: Cli, argv: list[str]) -> None:
    result = cli(*argv)
    assert result.exit_code == 1 and "execution group 'nope' does not exist" in result.stderr
