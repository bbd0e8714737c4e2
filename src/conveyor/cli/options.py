"""Options and checks several commands share, declared once so their flags and messages agree."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated, Any, Protocol, TypeVar

import typer

from conveyor.cli.output import fail
from conveyor.cli.params import ParamError, parse_params
from conveyor.cli.state import JSON_OPTION, api_command, show, state_of

F = TypeVar("F", bound=Callable[..., Any])
D = TypeVar("D")

JsonFlag = Annotated[bool, JSON_OPTION]
ParamOpt = Annotated[
    list[str] | None,
    typer.Option("--param", "-p", help="KEY=VALUE; VALUE is JSON when it parses (n=20 is a number)."),
]
ParamsJsonOpt = Annotated[
    str | None, typer.Option("--params-json", help="All parameters as a JSON object, or @file.json.")
]
RunTargetOpt = Annotated[str | None, typer.Option("--target", "-t", help="The target to run on.")]
TimeoutOpt = Annotated[
    float | None, typer.Option("--timeout", help="Give up waiting after this many seconds (exit 2).")
]
SuccessGroupOpt = Annotated[
    str | None, typer.Option("--success-group", help="Targets whose member succeeds join this target group.")
]
FailedGroupOpt = Annotated[
    str | None, typer.Option("--failed-group", help="Targets whose member fails join this target group.")
]


def parameters(param: list[str] | None, params_json: str | None) -> dict[str, Any]:
    """`--params-json` and `--param` as one dict; a mistake in them exits 2 with its message."""
    try:
        return parse_params(param, params_json)
    except ParamError as exc:
        fail(str(exc), 2)


def cancel_options(force_help: str, kill_help: str) -> tuple[inspect.Parameter, ...]:
    """--force and --kill of a cancel command (for `id_command`), each with its help."""
    return (
        option("force", Annotated[bool, typer.Option("--force", help=force_help)], False),
        option("kill", Annotated[bool, typer.Option("--kill", help=kill_help)], False),
    )


def cancel_mode(force: bool, kill: bool) -> dict[str, bool]:
    """The `force`/`kill` arguments of a cancel; both at once is a usage mistake (exit 2)."""
    if force and kill:
        fail("choose --force or --kill, not both", 2)
    return {"force": force, "kill": kill}


def option(name: str, annotation: Any, default: Any = None) -> inspect.Parameter:
    """One shared option for `with_options`: the parameter `name`, typed `Annotated[..., typer.Option]`."""
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default)


def with_options(*shared: inspect.Parameter) -> Callable[[F], F]:
    """Give a command options declared once for several commands.

    Typer reads a command's options from its signature, so the shared ones are added to it
    (after the command's own, before `--json`); the command receives them in its `**options`.
    """

    def decorate(func: F) -> F:
        own = [
            p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
            for p in inspect.signature(func, eval_str=True).parameters.values()
            if p.kind is not inspect.Parameter.VAR_KEYWORD
        ]
        at = next((i for i, p in enumerate(own) if p.name == "as_json"), len(own))
        func.__signature__ = inspect.Signature([*own[:at], *shared, *own[at:]])  # type: ignore[attr-defined]
        return func

    return decorate


def id_command(
    id_arg: Any,
    fetch: Callable[..., D],
    present: Callable[[typer.Context, D, bool], None],
    doc: str,
    *extra: inspect.Parameter,
) -> Callable[..., None]:
    """A command taking one id (`id_arg`, an Annotated typer.Argument), the `extra` options and --json.

    It calls `fetch(client, id, **extra_options)` (a get or an action), then
    `present(ctx, answer, as_json)`.
    """
    item = option("item_id", id_arg, inspect.Parameter.empty)

    @api_command
    @with_options(item, *extra, option("as_json", JsonFlag, False))
    def command(ctx: typer.Context, **opts: Any) -> None:
        item_id, as_json = opts.pop("item_id"), opts.pop("as_json")
        with state_of(ctx).client() as client:
            answer = fetch(client, item_id, **opts)
        present(ctx, answer, as_json)

    command.__doc__ = doc
    return command


class Document(Protocol):
    raw: Any


Doc = TypeVar("Doc", bound=Document)


def shown(view: Callable[[Doc], Any]) -> Callable[[typer.Context, Doc, bool], None]:
    """An `id_command` presenter: the document as JSON with --json, else `view(document)`."""

    def present(ctx: typer.Context, doc: Doc, as_json: bool) -> None:
        show(ctx, as_json, doc.raw, view(doc))

    return present
