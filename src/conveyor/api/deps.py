"""Shared dependencies: the service the app was built over, and JSON answers.

Handlers take the service from `app.state` instead of a module global, so one
process can hold several apps (tests do) over different stores.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import Response

from conveyor.core.executions import ExecutionService

JSON_MEDIA_TYPE = "application/json"


def get_service(request: Request) -> ExecutionService:
    service: ExecutionService = request.app.state.service
    return service


Service = Annotated[ExecutionService, Depends(get_service)]


def dump(content: Any) -> str:
    """Compact JSON, as stored for idempotent replays and sent on the wire."""
    return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=str)


def json_answer(content: Any, status_code: int = 200) -> Response:
    """An answer built from a plain document; 204 carries no body."""
    if status_code == 204:
        return Response(status_code=204)
    return Response(dump(content), status_code=status_code, media_type=JSON_MEDIA_TYPE)
