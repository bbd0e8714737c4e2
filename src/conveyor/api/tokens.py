"""`/tokens`: create, list and delete API tokens (admin only).

The secret is in the creation answer and nowhere else: the store keeps its
hash. Deleting a token clears this server's lookup cache so the token stops
working at once here (other servers notice within their cache lifetime).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from conveyor.api.auth import Admin, Authenticator
from conveyor.api.deps import Tokens, json_answer
from conveyor.api.idempotency import Idempotent
from conveyor.api.schemas import COMMON_ERRORS, NOT_FOUND, TokenBody, TokenCreated, TokenList
from conveyor.api.serialize import token_doc

router = APIRouter(tags=["tokens"], responses=COMMON_ERRORS)


@router.post("/tokens", status_code=201, response_model=TokenCreated, summary="Create a token")
def create(body: TokenBody, tokens: Tokens, _: Admin, idem: Idempotent) -> Response:
    def produce() -> dict[str, object]:
        token, secret = tokens.create(body.name, body.role)
        return token_doc(token, secret)

    return idem.run(201, produce)


@router.get("/tokens", response_model=TokenList, summary="List tokens (without secrets)")
def list_tokens(tokens: Tokens, _: Admin) -> Response:
    return json_answer({"items": [token_doc(t) for t in tokens.list()]})


@router.delete(
    "/tokens/{token_id}",
    status_code=204,
    response_class=Response,
    responses=NOT_FOUND,
    summary="Delete a token",
)
def delete(token_id: str, request: Request, tokens: Tokens, _: Admin, idem: Idempotent) -> Response:
    authenticator: Authenticator = request.app.state.authenticator

    def produce() -> None:
        tokens.delete(token_id)
        authenticator.forget()

    return idem.run(204, produce)
