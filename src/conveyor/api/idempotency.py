"""`Idempotency-Key`: a repeated mutating request gets the first answer again.

The first answer (a success, or a domain error such as 409) is stored under
the caller and the key, beside a fingerprint of the request (method, path,
query, body as canonical JSON). A retry of the same request finds it and
replays it byte for byte; the same key sent with another request (another
body, or another route, such as a DELETE after a POST) is refused with 422
`idempotency_key_reused`, as the IETF Idempotency-Key draft asks, instead of
getting an answer that was never about it. Requests refused before the handler
ran (bad token, bad JSON) and 5xx answers are not stored, so a retry after
fixing them still works. Starting executions also hands the key to the store,
which inserts at most one execution per key in its own transaction: two
concurrent duplicates collapse even though both missed the stored answer.
Other routes have no such lock: two *different* requests racing with one key,
neither finding a stored answer, both run, and the later one is told 422.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import Response

from conveyor.api.auth import Principal, current_principal
from conveyor.api.deps import JSON_MEDIA_TYPE, Answers, dump, json_answer
from conveyor.api.errors import error_body, status_for
from conveyor.core.errors import ConveyorError, InvalidRequest
from conveyor.core.idempotency import IdempotencyService

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 128
REPLAY_HEADER = "Idempotent-Replayed"


class IdempotencyKeyReused(ConveyorError):
    code = "idempotency_key_reused"

    def __init__(self, key: str) -> None:
        super().__init__(
            f"the {HEADER} {key!r} was already used for a different request; "
            "send a new key for a new request (a retry must repeat the request exactly)",
            {"field": HEADER},
        )


class Idempotency:
    """One mutating request: replay the stored answer for its key, or run it and store the answer."""

    def __init__(
        self, answers: IdempotencyService, key: str | None, scope: str, request_hash: str = ""
    ) -> None:
        self.answers = answers
        self.key = key
        self.request_hash = request_hash
        self.scoped_key = f"{scope}:{key}" if key is not None else None

    def run(self, status_code: int, produce: Callable[[], Any]) -> Response:
        """Answer `status_code` with what `produce()` returns, once per key."""
        if self.scoped_key is None:
            return json_answer(produce(), status_code)
        stored = self.answers.get(self.scoped_key)
        if stored is None:
            try:
                content = produce()
                status, body = status_code, ("" if status_code == 204 else dump(content))
            except ConveyorError as exc:
                status = status_for(exc.code)
                if status >= 500:
                    raise
                body = dump(error_body(exc.code, exc.message, exc.details))
            stored = self.answers.put(self.scoped_key, status, body, request_hash=self.request_hash)
            replayed = (stored.status_code, stored.body) != (status, body)  # a concurrent twin was first
        else:
            replayed = True
        if stored.request_hash is not None and stored.request_hash != self.request_hash:
            assert self.key is not None
            raise IdempotencyKeyReused(self.key)
        return _answer(stored.status_code, stored.body, replayed=replayed)


def _answer(status_code: int, body: str, *, replayed: bool) -> Response:
    headers = {REPLAY_HEADER: "true"} if replayed else None
    if status_code == 204:
        return Response(status_code=204, headers=headers)
    return Response(body, status_code=status_code, media_type=JSON_MEDIA_TYPE, headers=headers)


async def idempotency(
    request: Request,
    answers: Answers,
    principal: Annotated[Principal, Depends(current_principal)],
    key: Annotated[
        str | None,
        Header(
            alias=HEADER,
            description="Repeat a request with the same key to get the first answer again "
            f"(at most {MAX_KEY_LENGTH} characters, scoped to the caller; another request with the same "
            "key is refused with 422 idempotency_key_reused).",
        ),
    ] = None,
) -> Idempotency:
    if key is None:
        return Idempotency(answers, None, principal.scope)
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidRequest(
            f"the {HEADER} header must be 1 to {MAX_KEY_LENGTH} characters", {"field": HEADER}
        )
    return Idempotency(answers, key, principal.scope, _fingerprint(request, await request.body()))


def _fingerprint(request: Request, body: bytes) -> str:
    """The request as a hash: method, path, query and body, the body read as JSON where it is JSON,
    so the same document sent with other spacing or key order is the same request."""
    digest = hashlib.sha256()
    for part in (request.method, request.url.path, request.url.query):
        digest.update(part.encode() + b"\0")
    with contextlib.suppress(ValueError):  # not JSON (or empty): the bytes themselves
        body = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    digest.update(body)
    return digest.hexdigest()


Idempotent = Annotated[Idempotency, Depends(idempotency)]
