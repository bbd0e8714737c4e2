"""Turning `--param k=v` and `--params-json` into a workflow's parameters.

Values are JSON when they parse as JSON (`n=20` is the number 20,
`full=true` a boolean, `tags=["a","b"]` a list) and strings otherwise
(`name=nightly`), so the common cases need no quoting while any JSON value
stays expressible. Quote to force a string: `code='"007"'`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any


class ParamError(ValueError):
    """A parameter the CLI cannot read; its message names the offending argument."""


def _no_constants(name: str) -> Any:
    # NaN and Infinity parse in Python's json but are not JSON: the server would refuse the body.
    raise ValueError(name)


def parse_value(text: str) -> Any:
    """JSON when `text` is valid JSON, else the text itself."""
    try:
        return json.loads(text, parse_constant=_no_constants)
    except ValueError:
        return text


def parse_pair(pair: str) -> tuple[str, Any]:
    key, sep, value = pair.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ParamError(f"--param expects KEY=VALUE, got {pair!r}")
    return key, parse_value(value)


def parse_params(pairs: Iterable[str] | None, params_json: str | None) -> dict[str, Any]:
    """`--params-json` first, then each `--param` on top, so a flag can override one field of a file."""
    params: dict[str, Any] = {}
    if params_json:
        text = params_json
        if text.startswith("@"):
            try:
                with open(text[1:], encoding="utf-8") as fh:
                    text = fh.read()
            except OSError as exc:
                raise ParamError(f"cannot read --params-json file {text[1:]!r}: {exc.strerror}") from None
        try:
            loaded = json.loads(text, parse_constant=_no_constants)
        except ValueError as exc:
            raise ParamError(f"--params-json is not valid JSON: {exc}") from None
        if not isinstance(loaded, dict):
            raise ParamError("--params-json must be a JSON object, such as '{\"n\": 20}'")
        params.update(loaded)
    for pair in pairs or ():
        key, value = parse_pair(pair)
        params[key] = value
    return params


def split_csv(value: str | None) -> list[str] | None:
    """`running,failed` -> ['running', 'failed']; None or blank -> None (no filter)."""
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    return items or None
