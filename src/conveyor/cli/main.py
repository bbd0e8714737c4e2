"""The `conveyor` command: the Python client with a terminal face, plus serve/worker/db/token.

Global options come first (`conveyor --url URL --json list`); each data
command also accepts `--json` after its name, since that is where people
tend to type it.
"""

from __future__ import annotations

from typing import Annotated

import typer

from conveyor.cli import admin, batch, executions, groups, schedules, targets, workflows
from conveyor.cli.state import State
from conveyor.client.http import DEFAULT_URL

app = typer.Typer(
    name="conveyor",
    help="Conveyor: run workflows as tracked executions, and run the server that keeps them.",
    no_args_is_help=True,
    add_completion=False,
    # Locals may hold a token; never print them in a traceback.
    pretty_exceptions_show_locals=False,
)


@app.callback()
def main_callback(
    ctx: typer.Context,
    url: Annotated[
        str, typer.Option("--url", envvar="CONVEYOR_URL", help="The server's URL.", show_envvar=True)
    ] = DEFAULT_URL,
    token: Annotated[
        str | None,
        typer.Option("--token", envvar="CONVEYOR_TOKEN", help="API token (bearer).", show_envvar=True),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")] = False,
) -> None:
    ctx.obj = State(url=url, token=token, json=as_json)


executions.register(app)
workflows.register(app)
batch.register(app)
schedules.register(app)
targets.register(app)
groups.register(app)
admin.register(app)


def main() -> None:
    """Console-script entry point (`conveyor = "conveyor.cli.main:main"`)."""
    app()


if __name__ == "__main__":
    main()
