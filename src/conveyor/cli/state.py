"""What every command shares: the global options, the client they imply, and error handling."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

import typer

from conveyor.cli.output import fail
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
