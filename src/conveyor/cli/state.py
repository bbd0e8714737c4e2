"""What every command shares: the global options, the client they imply, and error handling."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

import typer

from conveyor.cli import output
from conveyor.cli.output import fail, note, print_json
from conveyor.client import Client, ConveyorClientError

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class State:
    """The callback's options, kept on the Typer context for the command that runs."""

    url: str | None = None
    token: str | None = None
    json: bool = False

    def client(self) -> Client:
        return Client(self.url, self.token)


def state_of(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, State) else State()


def wants_json(ctx: typer.Context, local: bool) -> bool:
    """`--json` works both before the command (global) and after it (per command)."""
    return local or state_of(ctx).json


def api_command(func: Callable[P, R]) -> Callable[P, R]:
    """Report client errors as `error: <message>` and exit 1, instead of a traceback.

    The server's messages are written for people, so they are shown as is;
    Ctrl-C exits 130 quietly, as shells expect.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except ConveyorClientError as exc:
            fail(str(exc))
        except KeyboardInterrupt:
            fail("interrupted", 130)

    return wrapper


JSON_OPTION: Any = typer.Option("--json", help="Print machine-readable JSON instead of tables.")


def show(ctx: typer.Context, as_json: bool, raw: Any, view: Any) -> None:
    """One answer: `raw` as JSON with --json, else `view` (a Rich renderable or text) on stdout."""
    if wants_json(ctx, as_json):
        print_json(raw)
    else:
        output.out().print(view)


def show_list(
    ctx: typer.Context,
    as_json: bool,
    found: Sequence[Any],
    table: Callable[[Sequence[Any]], Any],
    empty: str,
    *,
    limit: int | None = None,
) -> None:
    """A list: the documents as JSON with --json, else `table(found)`, or the note `empty` for none.

    With `limit`, a full page says that --limit shows more."""
    if wants_json(ctx, as_json):
        print_json([item.raw for item in found])
    elif not found:
        note(empty)
    else:
        output.out().print(table(found))
        if limit is not None and len(found) == limit:
            note(f"[dim](showing the first {limit}; --limit shows more)[/dim]")


def show_count(ctx: typer.Context, as_json: bool, key: str, n: int, text: str) -> None:
    """A number: `{key: n}` as JSON with --json, else the note `text`."""
    if wants_json(ctx, as_json):
        print_json({key: n})
    else:
        note(text)
