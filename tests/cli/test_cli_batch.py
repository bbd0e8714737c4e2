"""`conveyor batch FILE.json` against the real API server."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from conveyor.cli.main import app
from conveyor.core.model import Status
from tests.client.live import Live, wait_until

Cli = Callable[..., Result]
START = {"method": "POST", "path": "/executions", "body": {"workflow": "demo.count", "parameters": {"n": 2}}}


def write(tmp_path: Path, content: Any, name: str = "batch.json") -> str:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def test_batch_prints_a_table_of_results(cli: Cli, live: Live, tmp_path: Path) -> None:
    result = cli("batch", write(tmp_path, [START, {"method": "GET", "path": "/executions/count"}]))

    assert result.exit_code == 0, result.output
    (ex_id,) = live.pending_ids()
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["#", "method", "path", "status", "answer"]
    assert lines[1].split() == ["0", "POST", "/api/v1/executions", "201", "execution", ex_id,
                                "(demo.count):", "pending"]  # fmt: skip
    assert lines[2].split()[:4] == ["1", "GET", "/api/v1/executions/count", "200"]
    assert '{"count": 1}' in lines[2]
    assert result.stderr == ""


def test_a_failing_call_exits_1_after_printing_every_result(cli: Cli, live: Live, tmp_path: Path) -> None:
    calls = [START, {"method": "GET", "path": "/executions/nope"}, START]
    result = cli("batch", write(tmp_path, calls))

    assert result.exit_code == 1
    assert [ln.split()[3] for ln in result.stdout.splitlines()[1:]] == ["201", "404", "201"]
    assert "not_found: execution 'nope' does not exist" in result.stdout
    assert "1 of 3 call(s) failed or were skipped" in result.stderr
    assert len(live.pending_ids()) == 2


def test_stop_on_error_and_json(cli: Cli, live: Live, tmp_path: Path) -> None:
    calls = [{"method": "GET", "path": "/executions/nope"}, START]
    result = cli("batch", write(tmp_path, calls), "--stop-on-error", "--json")

    assert result.exit_code == 1
    answer = json.loads(result.stdout)
    assert answer["stopped_at"] == 0
    assert [r["status"] for r in answer["results"]] == [404, None]
    assert answer["results"][1]["skipped"] is True
    assert "stopped at call 0" in result.stderr
    assert live.pending_ids() == []


def test_a_batch_request_object_and_stdin(live: Live, tmp_path: Path) -> None:
    request = {"calls": [{"method": "GET", "path": "/executions/nope"}, START], "stop_on_error": True}
    result = CliRunner().invoke(
        app, ["--url", live.url, "--json", "batch", "-"], input=json.dumps(request), catch_exceptions=False
    )
    assert result.exit_code == 1
    assert [r["status"] for r in json.loads(result.stdout)["results"]] == [404, None]


def test_async_prints_the_execution_that_runs_it(cli: Cli, live: Live, tmp_path: Path) -> None:
    file = write(tmp_path, [START, {"method": "GET", "path": "/workflows"}])
    result = cli("batch", file, "--async")

    assert result.exit_code == 0, result.output
    words = result.stdout.split()
    assert words[:3] == ["started", "batch", "execution"] and words[4:] == ["(2", "calls)"]
    ex_id = words[3]
    assert f"conveyor logs --follow {ex_id}" in result.stderr
    wait_until(lambda: live.service.get(ex_id).status is Status.SUCCEEDED, what="the batch to succeed")
    assert [r["status"] for r in live.service.get(ex_id).result["results"]] == [201, 200]

    as_json = json.loads(cli("batch", file, "--async", "--json").stdout)
    assert set(as_json) == {"execution_id", "execution"}
    assert as_json["execution"]["workflow"] == "conveyor.batch"
    wait_until(lambda: live.service.get(as_json["execution_id"]).status.is_terminal, what="the batch to end")


def test_bad_files_exit_2(cli: Cli, tmp_path: Path) -> None:
    missing = cli("batch", str(tmp_path / "nope.json"))
    not_json = cli("batch", write(tmp_path, "{", "bad.json"))
    wrong_shape = cli("batch", write(tmp_path, {"call": []}, "shape.json"))
    bad_call = cli("batch", write(tmp_path, ["GET /health"], "call.json"))

    for result in (missing, not_json, wrong_shape, bad_call):
        assert result.exit_code == 2
        assert result.stderr.startswith("error: ")
    assert "cannot read" in missing.stderr
    assert "is not valid JSON" in not_json.stderr
    assert "list of calls" in wrong_shape.stderr
    assert "mapping or a (method, path[, body])" in bad_call.stderr


def test_a_refused_batch_exits_1_with_the_servers_message(cli: Cli, tmp_path: Path) -> None:
    result = cli("batch", write(tmp_path, [{"method": "GET", "path": "/api/v2/x"}]))
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: call 0: the path '/api/v2/x' is outside /api/v1"
