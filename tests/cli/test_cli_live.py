"""The `conveyor` command against the real API server, through typer's CliRunner."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from typer.testing import Result

from conveyor.client import Client
from tests.client.live import Live, free_port

Cli = Callable[..., Result]


def started_id(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return str(json.loads(result.stdout)["id"])


def test_start_prints_the_new_execution(cli: Cli, live: Live) -> None:
    result = cli("start", "demo.count", "--param", "n=5", "--target", "db1")
    assert result.exit_code == 0, result.output
    (ex_id,) = live.pending_ids()
    assert result.stdout.strip() == f"started execution {ex_id} of demo.count: pending"


def test_start_json_parses_params_and_honours_global_and_local_flags(cli: Cli) -> None:
    doc = json.loads(cli("--json", "start", "demo.count", "-p", "n=20").stdout)
    assert doc["parameters"] == {"n": 20} and doc["status"] == "pending"
    doc = json.loads(
        cli("start", "demo.backup", "--params-json", '{"full": true}', "-p", "label=weekly", "--json").stdout
    )
    assert doc["parameters"] == {"full": True, "label": "weekly"}


def test_start_wait_shows_progress_then_prints_the_result(cli: Cli, live: Live) -> None:
    live.run_next(result={"counted": 4}, total=4)
    result = cli("start", "demo.count", "-p", "n=4", "--wait", "--timeout", "20")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"counted": 4}
    assert "succeeded" in result.stderr


def test_start_wait_json_prints_the_final_document(cli: Cli, live: Live) -> None:
    live.run_next(result=7)
    result = cli("--json", "start", "demo.count", "--wait", "--timeout", "20")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["status"], doc["result"], doc["progress"]) == ("succeeded", 7, 1.0)


def test_start_wait_failure_exits_1_with_the_error(cli: Cli, live: Live) -> None:
    live.run_next(fail=True)
    result = cli("start", "demo.count", "--wait", "--timeout", "20")
    assert result.exit_code == 1
    assert "Traceback" not in result.stdout
    (line,) = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert line.endswith("of workflow 'demo.count' failed after 1 attempt: ValueError: boom")


def test_start_wait_timeout_exits_2(cli: Cli, live: Live) -> None:
    result = cli("start", "demo.count", "--wait", "--timeout", "0.3")
    assert result.exit_code == 2
    (ex_id,) = live.pending_ids()
    assert (
        f"error: Execution {ex_id} of workflow 'demo.count' is still pending after waiting 0.3 seconds"
        in (result.stderr)
    )
    assert f"conveyor logs --follow {ex_id}" in result.stderr


def test_start_errors_exit_1_without_a_traceback(cli: Cli) -> None:
    result = cli("start", "nope")
    assert result.exit_code == 1
    assert (
        result.stderr.strip()
        == "error: workflow 'nope' is not registered; known workflows: demo.backup, demo.count"
    )
    result = cli("start", "demo.count", "-p", "n=-1")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: parameters for 'demo.count' are invalid: n:")


def test_bad_param_syntax_is_a_usage_error(cli: Cli) -> None:
    result = cli("start", "demo.count", "-p", "n")
    assert result.exit_code == 2
    assert "error: --param expects KEY=VALUE, got 'n'" in result.stderr


def test_list_table_json_filters_and_count(cli: Cli, live: Live) -> None:
    a = started_id(cli("--json", "start", "demo.count", "--target", "db1"))
    live.claim(a)
    b = started_id(cli("--json", "start", "demo.backup", "--target", "db2"))

    docs = json.loads(cli("list", "--json").stdout)
    assert [d["id"] for d in docs] == [b, a]
    running = json.loads(cli("--json", "list", "--status", "running,failed").stdout)
    assert [d["id"] for d in running] == [a]
    assert json.loads(cli("--json", "list", "--sort=created_at", "--limit", "1").stdout)[0]["id"] == a

    table = cli("list", "--workflow", "demo.backup")
    assert table.exit_code == 0, table.output
    header, row = table.stdout.strip().splitlines()
    assert header.split() == ["id", "workflow", "target", "status", "progress", "created", "ended"]
    assert row.split()[:5] == [b, "demo.backup", "db2", "pending", "-"]

    assert cli("count").stdout.strip() == "2"
    assert cli("count", "--status", "running").stdout.strip() == "1"
    assert json.loads(cli("--json", "count", "-w", "demo.count").stdout) == {"count": 1}
    assert cli("list", "--status", "succeeded").stderr.strip() == "no executions match"


def test_list_with_a_bad_status_reports_the_server_message(cli: Cli) -> None:
    result = cli("list", "--status", "runing")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: unknown status 'runing'")


def test_get_shows_the_execution_and_its_error(cli: Cli, live: Live) -> None:
    ex_id = started_id(cli("--json", "start", "demo.count", "-p", "n=2"))
    live.run(ex_id, fail=True, total=2)
    result = cli("get", ex_id)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert ex_id in out and "demo.count" in out and "failed" in out and "2/2 (100%)" in out
    assert "ValueError: boom" in out and "Traceback (most recent call last)" in out
    assert json.loads(cli("get", ex_id, "--json").stdout)["error"]["type"] == "ValueError"


def test_unknown_id_exits_1_with_the_server_message(cli: Cli) -> None:
    for command in (["get"], ["cancel"], ["pause"], ["resume"], ["requeue"], ["delete"], ["logs"]):
        result = cli(*command, "no-such-id")
        assert result.exit_code == 1, command
        assert result.stderr.strip() == "error: execution 'no-such-id' does not exist", command


def test_actions(cli: Cli, live: Live) -> None:
    ex_id = started_id(cli("--json", "start", "demo.count"))
    live.claim(ex_id)
    assert cli("pause", ex_id).stdout.strip() == f"pause requested for execution {ex_id}: now pausing"
    assert cli("cancel", ex_id, "--force", "--kill").exit_code == 2
    assert cli("cancel", ex_id, "--force").stdout.strip() == f"cancelled execution {ex_id}: now cancelled"
    result = cli("pause", ex_id)
    assert result.exit_code == 1 and result.stderr.startswith(f"error: cannot pause execution {ex_id}")
    doc = json.loads(cli("--json", "resume", ex_id, "--force").stdout)
    assert doc["status"] in ("queued", "pending")
    live.run(ex_id)
    assert cli("requeue", ex_id).exit_code == 0
    cli("cancel", ex_id)
    result = cli("delete", ex_id)
    assert result.exit_code == 0 and result.stderr.strip() == f"deleted execution {ex_id}"
    assert cli("count").stdout.strip() == "0"


def test_logs_and_follow(cli: Cli, live: Live) -> None:
    ex_id = started_id(cli("--json", "start", "demo.count"))
    live.claim(ex_id)
    result = cli("logs", ex_id)
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2 and "created as pending" in lines[0] and "status" in lines[1]

    live.when(
        lambda: live.log.count("GET", f"/api/v1/executions/{ex_id}/events/stream") > 0,
        lambda: live.succeed(ex_id, "done"),
    )
    followed = cli("logs", ex_id, "--follow")
    assert followed.exit_code == 0, followed.output
    assert "running -> succeeded" in followed.stdout
    assert f"execution {ex_id} ended: succeeded" in followed.stderr

    as_lines = cli("--json", "logs", ex_id, "--follow").stdout.strip().splitlines()
    assert [json.loads(ln)["seq"] for ln in as_lines] == [1, 2, 3]


def test_workflows(cli: Cli) -> None:
    table = cli("workflows").stdout
    assert "demo.count" in table and "Count to n." in table and "Back a target up." in table
    docs = json.loads(cli("workflows", "--json").stdout)
    assert [d["name"] for d in docs] == ["demo.backup", "demo.count"]


def test_tokens_created_in_the_database_are_listed_by_the_api(cli: Cli, live: Live, tmp_path: Path) -> None:
    created = cli(
        "token", "create", "--role", "admin", "--name", "ci", "--database", f"sqlite:///{tmp_path}/t.db"
    )
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip()
    assert secret and "\n" not in secret and "not shown again" in created.stderr

    listed = cli("--token", secret, "--json", "token", "list")
    assert listed.exit_code == 0, listed.output
    assert [(t["name"], t["role"]) for t in json.loads(listed.stdout)] == [("ci", "admin")]
    bad = cli("--token", "wrong", "token", "list")
    assert bad.exit_code == 1 and bad.stderr.startswith("error:")


def test_db_upgrade_and_current(cli: Cli, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/fresh.db"
    assert cli("db", "current", "--database", url).stdout.strip() == "(none)"
    upgraded = cli("db", "upgrade", "--database", url)
    assert upgraded.exit_code == 0, upgraded.output
    current = cli("db", "current", "--database", url)
    assert current.stdout.strip() not in ("", "(none)") and "up to date" in current.stderr


def test_serve_refuses_to_run_open_off_loopback(cli: Cli, tmp_path: Path) -> None:
    result = cli("serve", "--host", "0.0.0.0", "--auth", "open", "--database", f"sqlite:///{tmp_path}/s.db")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot start the server: refusing to run open on 0.0.0.0")


def test_an_unreachable_server_is_named() -> None:
    from typer.testing import CliRunner

    from conveyor.cli.main import app

    url = f"http://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(app, ["--url", url, "list"])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: Cannot connect to the Conveyor server at {url}")


def test_workers_lists_a_registered_worker_and_whether_it_is_alive(cli: Cli, live: Live) -> None:
    with Client(live.url) as client:
        me = client.workers.register("box", queues=["io"], concurrency=2)["id"]
    result = cli("workers")
    assert result.exit_code == 0, result.output
    assert "alive" in result.stdout and "io" in result.stdout
    (doc,) = json.loads(cli("workers", "--json").stdout)
    assert (doc["id"], doc["state"], doc["queues"], doc["holding"]) == (me, "alive", ["io"], 0)


def test_queues_shows_what_waits_and_who_serves_it(cli: Cli, live: Live) -> None:
    cli("start", "demo.count", "-p", "n=1")
    with Client(live.url) as client:
        me = client.workers.register("box", queues=["default"])["id"]
    (doc,) = json.loads(cli("queues", "--json").stdout)
    assert (doc["name"], doc["waiting"], doc["by_status"]["pending"], doc["workers"]) == (
        "default",
        1,
        1,
        [me],
    )
    assert doc["oldest_waiting_at"] is not None
    result = cli("queues")
    assert result.exit_code == 0 and "default" in result.stdout


def test_workflow_declare_reads_a_schema_file(cli: Cli, tmp_path: Path) -> None:
    schema = tmp_path / "schema.json"
    schema.write_text('{"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}')
    result = cli("workflow", "declare", "remote.copy", "--schema", str(schema), "--queue", "files")
    assert result.exit_code == 0, result.output
    assert "declared workflow remote.copy on queue files; no live worker serves it yet" in result.stderr
    assert cli("start", "remote.copy", "-p", "path=/x").exit_code == 0
    refused = cli("start", "remote.copy")
    assert refused.exit_code != 0 and "path" in refused.output
