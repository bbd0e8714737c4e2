"""Commands that run or administer the server itself: serve, worker, db, token.

`serve`, `worker`, `db` and `token create` work on the local database and
processes, so they import the server side (conveyor.server, conveyor.store)
inside the command: the client commands stay fast to start and usable on
machines that only have the client's dependencies exercised.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from conveyor.cli import output
from conveyor.cli.options import JsonFlag
from conveyor.cli.output import fail, note, print_json
from conveyor.cli.state import api_command, state_of, wants_json
from conveyor.core.model import Role


class AuthMode(StrEnum):
    auto = "auto"
    required = "required"
    open = "open"


DatabaseOpt = Annotated[
    str | None,
    typer.Option(
        "--database", "-d", help="Database URL (default: CONVEYOR_DATABASE_URL or sqlite:///conveyor.db)."
    ),
]
AppOpt = Annotated[
    list[str] | None,
    typer.Option("--app", "-a", help="Module (or module:attr) defining a conveyor.App; repeatable."),
]
ConcurrencyOpt = Annotated[
    int | None, typer.Option("--concurrency", "-c", min=1, help="Executions one worker runs at once.")
]

db_app = typer.Typer(help="Database schema: upgrade it, or show its revision.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)


def _settings(**overrides: Any) -> Any:
    """Settings from CONVEYOR_* variables with the given flags on top (None means "not given")."""
    from conveyor.config import Settings

    try:
        return Settings.from_env(**overrides)
    except ValueError as exc:  # e.g. CONVEYOR_PORT=abc
        fail(f"bad configuration: {exc}")


def _run(what: str, func: Any, *args: Any) -> Any:
    """Call into the server side, turning its refusals (ValueError, domain errors) into `error:` lines."""
    from conveyor.core.errors import ConveyorError

    try:
        return func(*args)
    except (ConveyorError, ValueError, LookupError, ImportError, OSError) as exc:
        fail(f"{what}: {exc}")


def serve(
    host: Annotated[str | None, typer.Option("--host", help="Address to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port to bind (default 8321).")] = None,
    database: DatabaseOpt = None,
    app: AppOpt = None,
    no_worker: Annotated[bool, typer.Option("--no-worker", help="Run no worker in this process.")] = False,
    concurrency: ConcurrencyOpt = None,
    auth: Annotated[
        AuthMode | None,
        typer.Option(
            "--auth", help="auto: open on loopback, tokens elsewhere; required; open (loopback only)."
        ),
    ] = None,
    tls_cert: Annotated[
        str | None, typer.Option("--tls-cert", help="PEM certificate: serve HTTPS (with --tls-key).")
    ] = None,
    tls_key: Annotated[str | None, typer.Option("--tls-key", help="PEM private key of --tls-cert.")] = None,
) -> None:
    """Run the API server, the background loop and (unless --no-worker) a worker."""
    if (tls_cert is None) != (tls_key is None):
        fail("--tls-cert and --tls-key go together: give both to serve HTTPS, or neither")
    settings = _settings(
        host=host,
        port=port,
        database_url=database,
        apps=tuple(app) if app else None,
        run_worker=False if no_worker else None,
        concurrency=concurrency,
        auth=auth.value if auth else None,
        tls_cert=tls_cert,
        tls_key=tls_key,
    )
    from conveyor import server

    _run("cannot start the server", server.serve, settings)


def worker(
    database: DatabaseOpt = None,
    app: AppOpt = None,
    concurrency: ConcurrencyOpt = None,
    queue: Annotated[
        list[str] | None, typer.Option("--queue", "-q", help="Queue to take work from; repeatable.")
    ] = None,
    url: Annotated[
        str | None,
        typer.Option("--url", help="Work through this server's worker protocol instead of the database."),
    ] = None,
    token: Annotated[
        str | None, typer.Option("--token", envvar="CONVEYOR_TOKEN", help="With --url: a worker token.")
    ] = None,
) -> None:
    """Run a worker that claims and runs executions of the loaded workflows.

    On the database (--database), or through a server (--url, --token): then the worker needs no
    database access, only the server's address and a token with the worker role.
    """
    if url is not None and database is not None:
        fail("--url and --database are two ways to reach work: give one")
    settings = _settings(
        database_url=database,
        apps=tuple(app) if app else None,
        concurrency=concurrency,
        queues=tuple(queue) if queue else None,
    )
    from conveyor import server

    if url is not None:
        _run("cannot start the worker", server.run_http_worker, settings, url, token)
    else:
        _run("cannot start the worker", server.run_worker, settings)


@db_app.command("upgrade")
def db_upgrade(database: DatabaseOpt = None) -> None:
    """Apply every pending migration (run it before starting a newer Conveyor)."""
    from conveyor.store import migrate

    url = _settings(database_url=database).database_url
    _run("cannot upgrade the database", migrate.upgrade, url)
    note(f"database {url} is at revision {_run('cannot read the revision', migrate.current, url)}")


@db_app.command("current")
def db_current(database: DatabaseOpt = None) -> None:
    """Show the database's schema revision and whether it is up to date."""
    from conveyor.store import migrate

    url = _settings(database_url=database).database_url
    have = _run("cannot read the database", migrate.current, url)
    want = migrate.head()
    typer.echo(have or "(none)")
    if have == want:
        note("[green]up to date[/green]")
    else:
        note(f"[yellow]behind: this Conveyor needs {want}; run 'conveyor db upgrade'[/yellow]")


@token_app.command("create")
def token_create(
    ctx: typer.Context,
    role: Annotated[Role, typer.Option("--role", "-r", help="What the token may do.")],
    name: Annotated[str, typer.Option("--name", "-n", help="Who or what the token is for.")],
    database: DatabaseOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a token directly in the database and print its secret (shown only this once)."""
    settings = _settings(database_url=database)
    from conveyor import server

    secret = _run("cannot create the token", server.create_token, settings, name, role.value)
    if wants_json(ctx, as_json):
        print_json({"name": name, "role": role.value, "token": secret})
        return
    typer.echo(secret)
    note(f"[dim]token {name!r} ({role.value}); store it now, it is not shown again[/dim]")


@token_app.command("list")
@api_command
def token_list(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List tokens through the API (needs an admin token, or a local open server)."""
    with state_of(ctx).client() as client:
        tokens = client.tokens.list()
    if wants_json(ctx, as_json):
        print_json([t.raw for t in tokens])
        return
    table = output.list_table(("id", "name", "role", "created"))
    for t in tokens:
        table.add_row(t.id, t.name, t.role, output.when(t.created_at))
    output.out().print(table)


@token_app.command("delete")
@api_command
def token_delete(ctx: typer.Context, token_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Revoke a token through the API; callers using it get 401 from then on."""
    with state_of(ctx).client() as client:
        client.tokens.delete(token_id)
    note(f"deleted token {token_id}")


@api_command
def workers(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List workers: where they run, what they serve, what they hold, and whether they are alive."""
    with state_of(ctx).client() as client:
        found = client.workers.list()
    if wants_json(ctx, as_json):
        print_json(found)
        return
    table = output.list_table(("id", "state", "transport", "queues", "holding", "concurrency", "last seen"))
    for w in found:
        table.add_row(
            w["id"], output.status_text(w["state"]), w["transport"], ",".join(w["queues"]), str(w["holding"]),
            str(w["concurrency"]), output.when(w["last_seen_at"]),
        )  # fmt: skip
    output.out().print(table)


@api_command
def queues(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List queues: how many executions wait in each, since when, and which live workers serve it."""
    with state_of(ctx).client() as client:
        found = client.workers.queues()
    if wants_json(ctx, as_json):
        print_json(found)
        return
    table = output.list_table(("queue", "waiting", "running", "oldest waiting", "workers"))
    for q in found:
        table.add_row(
            q["name"], str(q["waiting"]), str(q["by_status"].get("running", 0)),
            output.when(q["oldest_waiting_at"]) if q["oldest_waiting_at"] else "-", str(len(q["workers"])),
        )  # fmt: skip
    output.out().print(table)


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(worker)
    app.command()(workers)
    app.command()(queues)
    app.add_typer(db_app, name="db")
    app.add_typer(token_app, name="token")
