"""`conveyor group start --wait` and `conveyor group wait`: Rich bars per running member plus an overall one.

The board itself is checked on a Progress the test owns; the commands run against the live
server while a background thread plays the worker, holding each member long enough for the
CLI's polls to see it running.
"""

from __future__ import annotations

import io
import json
import re
import time
from collections.abc import Callable, Iterator

import pytest
from rich.console import Console
from rich.progress import Progress
from typer.testing import Result

from conveyor.cli.groups import GroupBoard
from conveyor.client import ExecutionData, ExecutionGroupData
from conveyor.core.model import ExecutionFilter, Status
from tests.client.live import Live

Cli = Callable[..., Result]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def plain(text: str) -> str:
    return ANSI.sub("", text)


def group_doc(status: str, counts: dict[str, int], total: int = 4) -> ExecutionGroupData:
    ended = sum(n for s, n in counts.items() if s in ("succeeded", "failed", "cancelled"))
    return ExecutionGroupData(
        {"id": "g1", "workflow": "deploy", "target_group": "web", "status": status, "counts": counts,
         "total": total, "ended": ended, "concurrency": 2}
    )  # fmt: skip


def member(target: str, status: str, done: int | None = None, total: int | None = None) -> ExecutionData:
    return ExecutionData(
        {"id": f"e-{target}", "target": target, "status": status, "finished_operations": done,
         "total_operations": total}
    )  # fmt: skip


def test_the_board_has_an_overall_bar_and_one_per_running_member() -> None:
    progress = Progress(console=Console(file=io.StringIO()))
    board = GroupBoard(progress, group_doc("pending", {"pending": 2, "queued": 2}))
    overall = progress.tasks[0]
    assert (overall.total, overall.completed) == (4, 0)

    board.update(
        group_doc("started", {"running": 2, "queued": 2}),
        [member("web0", "running", 1, 4), member("web1", "pending"), member("web2", "queued")],
    )
    bars = {t.description.split()[0]: t for t in progress.tasks[1:]}
    assert set(bars) == {"web0", "web1"}  # queued members get no bar
    assert (bars["web0"].total, bars["web0"].completed) == (4, 1)
    assert bars["web1"].total is None  # no total yet: the bar pulses

    board.update(
        group_doc("started", {"succeeded": 1, "running": 2, "queued": 1}),
        [member("web0", "succeeded"), member("web1", "running", 3, 3), member("web2", "running")],
    )
    assert {t.description.split()[0] for t in progress.tasks[1:]} == {"web1", "web2"}  # web0's bar is gone
    assert progress.tasks[0].completed == 1
    assert "1 queued, 2 running, 1 succeeded" in progress.tasks[0].description

    board.update(group_doc("succeeded", {"succeeded": 4}), [member(f"web{i}", "succeeded") for i in range(4)])
    assert len(progress.tasks) == 1 and progress.tasks[0].completed == 4


def play(live: Live, *, hold: float = 0.4, failing: frozenset[str] = frozenset(), after: float = 0.0) -> None:
    """In the background: run the admitted members of every group, `hold` seconds each, until all ended."""

    def worker() -> None:
        time.sleep(after)
        end = time.monotonic() + 20
        while time.monotonic() < end:
            found = [
                m
                for g in live.store.execution_group_list()
                for m in live.service.list(ExecutionFilter(group_id=g.id), sort=["id"], limit=1000).items
            ]
            if found and all(m.status.is_terminal for m in found):
                return
            pending = [m for m in found if m.status is Status.PENDING]
            if pending:
                live.claim(pending[0].id)  # takes every pending member
                for m in pending:
                    live.progress(m.id, 1, 2)
                time.sleep(hold)
                for m in pending:
                    live.progress(m.id, 2, 2)
                    if m.target in failing:
                        live.fail(m.id)
                    else:
                        live.succeed(m.id)
            time.sleep(0.02)

    live.in_background(worker)


@pytest.fixture
def web(cli: Cli) -> list[str]:
    names = [f"web{i}" for i in range(4)]
    for name in names:
        assert cli("target", "add", name, "--label", "role=web").exit_code == 0
    assert cli("target-group", "create", "web", "--label", "role=web").exit_code == 0
    return names


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Make Rich draw live bars on the captured stderr, as it would on a terminal."""
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("TTY_INTERACTIVE", "1")
    monkeypatch.setenv("COLUMNS", "200")
    yield


def test_start_wait_draws_member_bars_and_succeeds(
    cli: Cli, live: Live, web: list[str], terminal: None
) -> None:
    play(live, hold=0.8)  # several polls see each member running
    result = cli("group", "start", "demo.count", "--target-group", "web", "--concurrency", "2", "--wait")
    assert result.exit_code == 0, result.output
    err = plain(result.stderr)
    assert "started execution group" in err and "(4 member(s))" in err
    assert "demo.count on web: started" in err  # the overall bar
    assert re.search(r"web0 running .*1/2", err) and re.search(r"web3 running", err)  # one bar per member
    assert re.search(r"execution group \S+ succeeded: 4 succeeded", err)
    assert result.stdout == ""  # nothing failed: no members table


def test_wait_exits_1_and_lists_the_failed_members(cli: Cli, live: Live, web: list[str]) -> None:
    play(live, hold=0.05, failing=frozenset({"web2"}))
    result = cli("group", "start", "demo.count", "-g", "web", "-c", "4", "--wait", "--timeout", "20")
    assert result.exit_code == 1, result.output
    assert "web2" in result.stdout and "ValueError: boom" in result.stdout and "web1" not in result.stdout
    assert re.search(r"error: execution group \S+ failed: 3 succeeded, 1 failed", result.stderr)


def test_wait_json_prints_the_group(cli: Cli, live: Live, web: list[str]) -> None:
    play(live, hold=0.05)
    result = cli("--json", "group", "start", "demo.count", "-g", "web", "--wait")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["status"], doc["counts"]) == ("succeeded", {"succeeded": 4})
    assert result.stderr == ""


def test_wait_times_out_with_exit_2_and_the_group_goes_on(cli: Cli, live: Live, web: list[str]) -> None:
    result = cli("group", "start", "demo.count", "-g", "web", "--wait", "--timeout", "0.5")
    assert result.exit_code == 2, result.output
    assert "is still pending (0 of 4 ended) after 0.5 s" in result.stderr
    (g,) = live.store.execution_group_list()
    follow = cli("group", "wait", g.id, "--timeout", "0.2")
    assert follow.exit_code == 2 and f"conveyor group wait {g.id}" in follow.stderr
    play(live, hold=0.05)
    again = cli("group", "wait", g.id)
    assert again.exit_code == 0 and "succeeded: 4 succeeded" in again.stderr


def test_wait_on_a_cancelled_group_exits_1(cli: Cli, live: Live, web: list[str]) -> None:
    started = json.loads(cli("group", "start", "demo.count", "-g", "web", "--json").stdout)
    assert cli("group", "cancel", started["id"], "--force").exit_code == 0
    result = cli("group", "wait", started["id"])
    assert result.exit_code == 1 and "cancelled: 4 cancelled" in result.stderr
