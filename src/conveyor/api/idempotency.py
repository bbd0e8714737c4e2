"""`Idempotency-Key`: a repeated mutating request gets the first answer again.

The first answer (a success, or a domain error such as 409) is stored in the
store under the caller's scope and the key; a retry finds it and replays it
byte for byte. Requests refused before the handler ran (bad token, bad JSON)
and 5xx answers are not stored, so a retry after fixing them still works.
Starting executions also hands the key to the store, which inserts at most one
execution per key in its own transaction: two concurrent duplicates collapse
even though both missed the stored answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Header
from fastapi.responses import Response

from conveyor.api.auth import Principal, current_principal
from conveyor.api.deps import JSON_MEDIA_TYPE, Service, dump, json_answer
from conveyor.api.errors import error_body, status_for
from conveyor.core.errors import ConveyorError, InvalidRequest
from conveyor.core.executions import ExecutionService

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 128
REPLAY_HEADER = "Idempotent-Replayed"


class Idempotency:
    """One mutating request: replay the stored answer for its key, or run it and store the answer."""

    def __init__(self, service: ExecutionService, key: str | None, scope: str) -> None:
        self.service = service
        self.key = key
        self.scoped_key = f"{scope}:{key}" if key is not None else None

    def run(self, status_code: int, produce: Callable[[], Any]) -> Response:
        """Answer `status_code` with what `produce()` returns, once per key."""
        if self.scoped_key is None:
            return json_answer(produce(), status_code)
        store = self.service.store
        stored = store.idempotency_get(self.scoped_key)
        if stored is None:
            try:
                content = produce()
                status, body = status_code, ("" if status_code == 204 else dump(content))
            except ConveyorError as exc:
                status = status_for(exc.code)
                if status >= 500:
                    raise
                body = dump(error_body(exc.code, exc.message, exc.details))
            stored = store.idempotency_put(self.scoped_key, status, body, now=self.service.clock.now())
            replayed = False
        else:
            replayed = True
        return _answer(*stored, replayed=replayed)


def _answer(status_code: int, body: str, *, replayed: bool) -> Response:
    headers = {REPLAY_HEADER: "true"} if replayed else None
    if status_code == 204:
        return Response(status_code=204, headers=headers)
    return Response(body, status_code=status_code, media_type=JSON_MEDIA_TYPE, headers=headers)


def idempotency(
    service: Service,
    principal: Annotated[Principal, Depends(current_principal)],
    key: Annotated[
        str | None,
        Header(
            alias=HEADER,
            description="Repeat a request with the same key to get the first answer again "
            f"(at most {MAX_KEY_LENGTH} characters, scoped to the caller).",
        ),
    ] = None,
) -> Idempotency:
    if key is not None:
        key = key.strip()
        if not key or len(key) > MAX_KEY_LENGTH:
            raise InvalidRequest(
                f"the {HEADER} header must be 1 to {MAX_KEY_LENGTH} characters", {"field": HEADER}
            )
    return Idempotency(service, key, principal.scope)


Idempotent = Annotated[Idempotency, Depends(idempotency)]
