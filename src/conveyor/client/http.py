"""Sending `Call`s with httpx, and turning what comes back into JSON or a client exception.

The transports themselves (`AsyncHTTP` in _async/http.py, `SyncHTTP` generated
from it) only send; answer decoding and the wording of connection errors live
here once, so a caller reads the same sentence whichever client it uses.
"""

from __future__ import annotations

import os
from typing import Any

import httpx

from conveyor.client.calls import Call
from conveyor.client.errors import ConveyorAPIError, ConveyorConnectionError, error_from_response

DEFAULT_URL = "http://127.0.0.1:8321"
API_PREFIX = "/api/v1"
DEFAULT_TIMEOUT = 30.0


def resolve_url(url: str | None) -> str:
    """The server's root URL: the argument, else CONVEYOR_URL, else the local default.

    A URL already ending in /api/v1 is accepted too, since that is what
    people copy from the OpenAPI page.
    """
    chosen = (url or os.environ.get("CONVEYOR_URL") or DEFAULT_URL).strip().rstrip("/")
    if "://" not in chosen:
        chosen = f"http://{chosen}"
    if chosen.endswith(API_PREFIX):
        chosen = chosen[: -len(API_PREFIX)]
    return chosen


def resolve_token(token: str | None) -> str | None:
    return token or os.environ.get("CONVEYOR_TOKEN") or None


def headers(token: str | None) -> dict[str, str]:
    from conveyor import __version__

    headers = {"User-Agent": f"conveyor-client/{__version__}", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def connection_error(url: str, exc: httpx.TransportError) -> ConveyorConnectionError:
    """A sentence naming the server and what went wrong, without httpx's internals."""
    reason = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ConnectError):
        msg = f"Cannot connect to the Conveyor server at {url} ({reason}); is it running?"
    elif isinstance(exc, httpx.TimeoutException):
        msg = f"The Conveyor server at {url} did not answer in time ({type(exc).__name__})."
    else:
        msg = f"The connection to the Conveyor server at {url} failed: {reason}."
    return ConveyorConnectionError(msg, url)


def decode(url: str, response: httpx.Response) -> Any:
    """The answer's JSON, None for an empty answer (204), or the matching exception for an error."""
    if response.status_code >= 400:
        raise error_from_response(response.status_code, response.content, response.reason_phrase)
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        raise ConveyorAPIError(
            response.status_code,
            "invalid_response",
            f"The server at {url} answered {response.request.url.path} with something that is not JSON; "
            "is this URL a Conveyor server?",
        ) from None


def request_kwargs(call: Call) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    if call.params:
        kwargs["params"] = call.params
    if call.json is not None:
        kwargs["json"] = call.json
    if call.headers:
        kwargs["headers"] = call.headers
    return kwargs


def stream_timeout(timeout: float | None) -> httpx.Timeout:
    # The events stream may stay quiet for as long as the execution runs, so reads never time out.
    return httpx.Timeout(timeout, read=None)
