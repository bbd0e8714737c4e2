"""`/1.0/{group}/{class}/rest/{method}`: the HTTP face of the Jelastic dialect.

One route takes every method, GET with the parameters in the query (py-jelastic) or POST with
them form-encoded, in a JSON object, and/or in the query (jelastic-client, jelapi, the official
docs' examples); in a POST the body wins over the query. A name given several times (httpx
form-encodes a list that way) reads as the list of its values. Parameter names are read in any case,
and the path too (py-jelastic lower-cases the method). `appid` and the `X-Base-Url` header are
ignored. Every answer is JSON with `result` (0 on success, see `wire` for the error numbers) and
HTTP 200, as Jelastic answers; only an unknown method answers 404 (py-jelastic then raises
JelasticResourceNotFound("API endpoint not found: ...")).
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from conveyor.api.deps import JSON_MEDIA_TYPE, dump
from conveyor.core.errors import ConveyorError, InvalidRequest
from conveyor.dialects.jelastic import batch
from conveyor.dialects.jelastic.dispatch import Server, authenticate, internal_failure, invoke
from conveyor.dialects.jelastic.scheduler import METHODS
from conveyor.dialects.jelastic.wire import UnknownMethod, failure_of, text_param

log = logging.getLogger("conveyor.dialects.jelastic")

VERSION = "1.0"
PREFIX = f"/{VERSION}"
FORM_TYPES = frozenset({"", "application/x-www-form-urlencoded", "text/plain"})

router = APIRouter(tags=["Jelastic"])


def _answer(content: dict[str, Any], status_code: int = 200) -> Response:
    return Response(dump(content), status_code=status_code, media_type=JSON_MEDIA_TYPE)


def method_key(path: str) -> str:
    """`utils/scheduler/rest/gettasks` -> `utils.scheduler.gettasks`, for a method this server serves."""
    parts = [p for p in path.strip("/").split("/") if p]
    if len(parts) == 4 and parts[2].lower() == "rest":
        key = f"{parts[0]}.{parts[1]}.{parts[3]}".lower()
        if key in METHODS or key == batch.BATCH_METHOD:
            return key
    known = ", ".join([*(m.name for m in METHODS.values()), "utils.batch.Call"])
    raise UnknownMethod(
        f"no Jelastic method at {PREFIX}/{path.strip('/')}; this server serves {known} "
        f"(at {PREFIX}/<group>/<class>/rest/<method>)",
        {"path": f"{PREFIX}/{path}"},
    )


def _pairs(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Names lower-cased; a name given several times becomes the list of its values."""
    out: dict[str, Any] = {}
    for name, value in pairs:
        key = name.lower()
        if key not in out:
            out[key] = value
        elif isinstance(out[key], list):
            out[key].append(value)
        else:
            out[key] = [out[key], value]
    return out


async def read_params(request: Request) -> dict[str, Any]:
    """Query parameters, then (POST) the form or JSON body over them, names lower-cased."""
    params = _pairs(request.query_params.multi_items())
    if request.method != "POST":
        return params
    body = await request.body()
    if not body.strip():
        return params
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequest("the request body is not UTF-8 text", {"field": "body"}) from None
    if kind == "application/json" or (kind == "" and text.lstrip().startswith("{")):
        try:
            decoded = json.loads(text)
        except ValueError as exc:
            raise InvalidRequest(f"the JSON body is not valid JSON ({exc})", {"field": "body"}) from None
        if not isinstance(decoded, dict):
            raise InvalidRequest("a JSON body must be an object of parameters", {"field": "body"})
        params.update({str(k).lower(): v for k, v in decoded.items()})
    elif kind in FORM_TYPES:
        params.update(_pairs(parse_qsl(text, keep_blank_values=True)))
    else:
        raise InvalidRequest(
            f"send the parameters in the query or form-encoded (application/x-www-form-urlencoded), "
            f"not as {kind}",
            {"field": "body"},
        )
    return params


@router.api_route(
    PREFIX + "/{path:path}",
    methods=["GET", "POST"],
    include_in_schema=False,
    summary="Jelastic API (utils.Scheduler, utils.Batch)",
)
async def jelastic(path: str, request: Request) -> Response:
    try:
        key = method_key(path)
    except UnknownMethod as exc:
        return _answer(failure_of(exc), 404)
    try:
        params = await read_params(request)
        server = Server.of(request.app)
        session = text_param(params, "session")
        principal = await run_in_threadpool(
            authenticate, server.authenticator, session, request.headers.get("authorization")
        )
        ruk = text_param(params, "ruk")
        if key == batch.BATCH_METHOD:
            return _answer(await batch.call(request.app, server, params, principal, session, ruk))
        method = METHODS[key]
        return _answer(await run_in_threadpool(invoke, server, method, params, principal, ruk))
    except ConveyorError as exc:
        return _answer(failure_of(exc))
    except Exception:  # never a 500: the Jelastic client reads a result number and a message
        return _answer(internal_failure(key))
