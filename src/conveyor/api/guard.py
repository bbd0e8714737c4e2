"""The door every HTTP request passes: sizes, strict JSON and text the database can store.

Whatever the API accepts it must be able to give back, on every list page and in
every dialect, from either database. A value that cannot make that round trip
is refused here, before any handler runs, with a coded 4xx:
- a body over `max_body_bytes` (413 `payload_too_large`), counted as it arrives,
  so a 10 MB upload costs the server at most the limit;
- JSON that is not strict: `NaN`, `Infinity` (Python's parser takes them, no other
  JSON reader does) and strings with a lone UTF-16 surrogate (`"\\ud800"`: not
  text, so it cannot be encoded back) are 400 `malformed_json`;
- the NUL character anywhere in a path, a query or a JSON string (400
  `invalid_request`): PostgreSQL cannot store it in text, and a row that one
  store keeps and the other refuses is a trap when moving between them;
- JSON nested deeper than `max_depth` or arrays longer than `max_items` (422
  `limit_exceeded`): both would otherwise cost the server's recursion or time.

Bodies are checked as JSON when they say so or say nothing (as FastAPI reads them); form posts
(Jelastic) are checked for size and for NUL, raw or percent-encoded, in every field; JSON carried
inside a form field (a Jelastic batch's `request`) is read by the dialect, not here. The body is
read once and handed on unchanged; a client that hangs up mid-body gets no handler run at all.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from conveyor.api.errors import error_response

DEFAULT_MAX_BODY_BYTES = 1 << 20
DEFAULT_MAX_DEPTH = 32
DEFAULT_MAX_ITEMS = 10_000
NUL = "\x00"


class Refused(Exception):
    """Why a request is refused at the door: an error code and a sentence for the caller."""

    def __init__(self, code: str, message: str, **details: Any) -> None:
        message = _printable(message)
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = {k: _printable(v) if isinstance(v, str) else v for k, v in details.items()}


class RequestGuard:
    """An ASGI middleware applying the rules above to every HTTP request."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        max_depth: int = DEFAULT_MAX_DEPTH,
        max_items: int = DEFAULT_MAX_ITEMS,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_depth = max_depth
        self.max_items = max_items

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            check_address(scope)
            body = await self._read_body(scope, receive)
            if body is None:
                return  # the client hung up mid-body: nothing to answer, and no half request to run
            if body and _is_json(scope):
                check_json(body, max_depth=self.max_depth, max_items=self.max_items)
            elif NUL.encode() in body:
                raise Refused("invalid_request", "the request body contains a NUL character (\\u0000)")
            elif b"%00" in body:  # form-encoded (Jelastic): a NUL arrives percent-encoded
                check_pairs(body.decode("latin-1"), "form field")
        except Refused as refused:
            response = error_response(refused.code, refused.message, refused.details)
            await response(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes | None:
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            raise self._too_large()
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise self._too_large()
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    def _too_large(self) -> Refused:
        return Refused(
            "payload_too_large",
            f"the request body is larger than {self.max_body_bytes} bytes, the server's limit",
            limit=self.max_body_bytes,
        )


def check_address(scope: Scope) -> None:
    """No NUL in the path or in any query name or value (both arrive percent-decoded to handlers)."""
    if NUL in scope.get("path", ""):
        raise Refused("invalid_request", "the path contains a NUL character (%00)")
    check_pairs(scope.get("query_string", b"").decode("latin-1"), "query parameter")


def check_pairs(text: str, what: str) -> None:
    """No NUL in any name or value of a query string or a form-encoded body."""
    if "%00" in text or NUL in text:
        for name, value in parse_qsl(text, keep_blank_values=True):
            if NUL in name or NUL in value:
                raise Refused(
                    "invalid_request", f"the {what} {name!r} contains a NUL character (%00)", field=name
                )


class _NotStrict(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise _NotStrict(f"{name} is not a JSON number; send a finite number or null")


def check_json(body: bytes, *, max_depth: int, max_items: int) -> None:
    """Refuse JSON the API could not give back; leave unparsable bodies to the handler's own error."""
    try:
        value = json.loads(body, parse_constant=_refuse_constant)
    except _NotStrict as exc:
        raise Refused("malformed_json", f"the request body is not strict JSON: {exc}") from None
    except RecursionError:
        raise _too_deep(max_depth) from None
    except ValueError:
        return  # not JSON at all: the route answers malformed_json with the parser's reason
    # Walk without recursion: the depth check must not itself be the thing that runs out of stack.
    stack: list[tuple[Any, int, str]] = [(value, 1, "")]
    while stack:
        item, depth, where = stack.pop()
        if isinstance(item, str):
            _check_text(item, where)
        elif isinstance(item, dict | list):
            if depth > max_depth:
                raise _too_deep(max_depth)
            if isinstance(item, list):
                if len(item) > max_items:
                    raise Refused(
                        "limit_exceeded",
                        f"{where or 'the body'} has {len(item)} items; at most {max_items} are accepted",
                        field=where,
                        limit=max_items,
                    )
                stack.extend((v, depth + 1, f"{where}[{i}]") for i, v in enumerate(item))
            else:
                for key, v in item.items():
                    path = f"{where}.{key}" if where else key
                    _check_text(key, path)
                    stack.append((v, depth + 1, path))


def _check_text(text: str, where: str) -> None:
    if NUL in text:
        raise Refused(
            "invalid_request", f"{where or 'the body'} contains a NUL character (\\u0000)", field=where
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise Refused(
            "malformed_json",
            f"{where or 'the body'} contains a lone UTF-16 surrogate (such as \\ud800), which is not text",
            field=where,
        ) from None


def _printable(text: str) -> str:
    """Text safe to answer with: a lone surrogate in a field name is shown escaped, not re-sent."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _too_deep(max_depth: int) -> Refused:
    return Refused(
        "limit_exceeded", f"the request body is nested deeper than {max_depth} levels", limit=max_depth
    )


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _is_json(scope: Scope) -> bool:
    kind = (_header(scope, b"content-type") or "").strip().lower()
    return not kind or "json" in kind  # FastAPI (and Jelastic) read a body without a type as JSON


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the already-read body on once, then defers to the real one."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
