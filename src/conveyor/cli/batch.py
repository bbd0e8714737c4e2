"""`conveyor batch FILE.json`: several API calls in one request, shown as a table of results."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from conveyor.cli import output
from conveyor.cli.output import fail, note, print_json
from conveyor.cli.state import JSON_OPTION, api_command, state_of, wants_json

#: How much of an answer the table shows; --json shows all of it.
SUMMARY_WIDTH = 120


def read_batch(source: str) -> tuple[list[Any], bool, bool]:
    """FILE (or stdin for `-`) as (calls, stop_on_error, sync): a JSON list of calls, or a batch
    request `{"calls": [...], "stop_on_error": false, "sync": true}` as the API takes it."""
    try:
        if source == "-":
            text = sys.stdin.read()
        else:
            with open(source, encoding="utf-8") as fh:
                text = fh.read()
    except OSError as exc:
        fail(f"cannot read {source!r}: {exc.strerror}", 2)
    try:
        loaded = json.loads(text)
    except ValueError as exc:
        fail(f"{source!r} is not valid JSON: {exc}", 2)
    if isinstance(loaded, dict) and isinstance(loaded.get("calls"), list):
        unknown = set(loaded) - {"calls", "stop_on_error", "sync"}
        if unknown:
            known = "calls, stop_on_error, sync"
            fail(f"{source!r}: unknown field(s) {', '.join(sorted(unknown))}; expected {known}", 2)
        return loaded["calls"], loaded.get("stop_on_error") is True, loaded.get("sync") is not False
    if isinstance(loaded, list):
        return loaded, False, True
    fail(f'{source!r} must hold a list of calls or an object {{"calls": [...]}}', 2)


def summary(body: Any) -> str:
    """One line for an answer: an error's code and message, an execution's id and status, or the JSON."""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and "code" in error:
            return f"{error.get('code')}: {error.get('message', '')}"
        if {"id", "workflow", "status"} <= body.keys():
            return f"execution {body['id']} ({body['workflow']}): {body['status']}"
        if isinstance(body.get("items"), list):
            return f"{len(body['items'])} item(s)"
    text = output.compact(body)
    return text if len(text) <= SUMMARY_WIDTH else text[: SUMMARY_WIDTH - 1] + "…"


def status_cell(result: dict[str, Any]) -> Text:
    status = result.get("status")
    if result.get("skipped") or status is None:
        return Text("skipped", style="dim")
    return Text(str(status), style="green" if int(status) < 400 else "red")


def results_table(results: list[dict[str, Any]]) -> Table:
    table = Table(box=None, header_style="bold", pad_edge=False)
    for name in ("#", "method", "path", "status", "answer"):
        table.add_column(name, no_wrap=name != "answer", overflow="fold")
    for r in results:
        answer = "" if r.get("skipped") else summary(r.get("body"))
        table.add_row(str(r.get("index")), str(r.get("method")), str(r.get("path")), status_cell(r), answer)
    return table


def failed(results: list[dict[str, Any]]) -> int:
    return sum(1 for r in results if r.get("skipped") or (r.get("status") or 0) >= 400)


@api_command
def batch(
    ctx: typer.Context,
    file: Annotated[
        str,
        typer.Argument(
            metavar="FILE.json",
            help='A JSON list of calls {"method", "path", "body", "query"}, or {"calls": [...]}; '
            "- reads stdin.",
        ),
    ],
    run_async: Annotated[
        bool, typer.Option("--async", help="Run in the background; print the execution that runs it.")
    ] = False,
    stop_on_error: Annotated[
        bool, typer.Option("--stop-on-error", help="Skip the calls after the first one that fails.")
    ] = False,
    as_json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Run several API calls in one request, in order; exit 1 if any call failed or was skipped.

    Paths are under /api/v1 or relative to it, e.g. {"method": "POST", "path": "/executions",
    "body": {"workflow": "backup"}}. Each call is checked with your token as if sent on its own.
    """
    calls, file_stop, file_sync = read_batch(file)
    run_async = run_async or not file_sync
    json_out = wants_json(ctx, as_json)
    with state_of(ctx).client() as client:
        try:
            answer = client.batch(calls, sync=not run_async, stop_on_error=stop_on_error or file_stop)
        except TypeError as exc:  # a call that is neither a mapping nor a (method, path[, body]) list
            fail(f"{file!r}: {exc}", 2)
    if run_async:
        if json_out:
            print_json(answer)
        else:
            ex_id = answer["execution_id"]
            output.out().print(f"started batch execution {ex_id} ({len(calls)} calls)")
            note(f"follow it with: conveyor logs --follow {ex_id}")
        return
    results: list[dict[str, Any]] = list(answer.get("results") or [])
    if json_out:
        print_json(answer)
    else:
        output.out().print(results_table(results))
    bad = failed(results)
    if bad:
        stopped = answer.get("stopped_at")
        where = f"; stopped at call {stopped}" if stopped is not None else ""
        note(f"[red]{bad} of {len(results)} call(s) failed or were skipped{where}[/red]")
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command()(batch)
