"""`conveyor workflow declare`: make a workflow startable whose code runs elsewhere."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from conveyor.cli.options import JsonFlag
from conveyor.cli.output import fail, note, print_json
from conveyor.cli.state import api_command, state_of, wants_json

workflow_app = typer.Typer(help="Declare workflows served by workers elsewhere, or in another language.")


@workflow_app.command("declare")
@api_command
def declare(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME")],
    schema: Annotated[
        Path | None, typer.Option("--schema", help="A JSON Schema file for its parameters.", exists=True)
    ] = None,
    queue: Annotated[str, typer.Option("--queue", "-q", help="The queue its workers serve.")] = "default",
    description: Annotated[str, typer.Option("--description", help="What it does.")] = "",
    max_attempts: Annotated[int, typer.Option("--max-attempts", min=1, help="Tries before it fails.")] = 1,
    as_json: JsonFlag = False,
) -> None:
    """Declare a workflow (needs an admin token): starts are then checked against its schema and
    wait in its queue for a worker that serves it."""
    parameters_schema = {"type": "object"}
    if schema is not None:
        try:
            parameters_schema = json.loads(schema.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            fail(f"cannot read the schema {schema}: {exc}")
    with state_of(ctx).client() as client:
        declared = client.workflows.declare(
            name, parameters_schema=parameters_schema, queue=queue, description=description,
            max_attempts=max_attempts,
        )  # fmt: skip
    if wants_json(ctx, as_json):
        print_json(declared.raw)
        return
    served = (
        f"served by {len(declared.workers)} live worker(s)"
        if declared.served
        else "no live worker serves it yet"
    )
    note(f"declared workflow {declared.name} on queue {declared.queue}; {served}")


def register(app: typer.Typer) -> None:
    app.add_typer(workflow_app, name="workflow")
