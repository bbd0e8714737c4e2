"""`/tokens`: create, list and delete API tokens (admin only).

The secret is in the creation answer and nowhere else: the store keeps its
hash. Deleting a token clears this server's lookup cache so the token stops
working at once here (other servers notice within their cache lifetime).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from conveyor.api.auth import Admin, Authenticator, create_token
from conveyor.api.deps import Service, json_answer
from conveyor.api.idempotency import Idempotent
from conveyor.api.schemas import COMMON_ERRORS, NOT_FOUND, TokenBody, TokenCreated, TokenList
from conveyor.api.serialize import token_doc
from conveyor.core.errors import NotFound

router = APIRouter(tags=["tokens"], responses=COMMON_ERRORS)


@router.post("/tokens", status_code=201, response_model=TokenCreated, summary="Create a token")
def create(body: TokenBody, service: Service, _: Admin, idem: Idempotent) -> Response:
    def produce() -> dict[str, object]:
        token, secret = create_token(service, body.name, body.role)
        return token_doc(token, secret)

    return idem.run(201, produce)


@router.get("/tokens", response_model=TokenList, summary="List tokens (without secrets)")
def list_tokens(service: Service, _: Admin) -> Response:
    return json_answer({"items": [token_doc(t) for t in service.store.token_list()]})


@router.delete(
    "/tokens/{token_id}",
    status_code=204,
    response_class=Response,
    responses=NOT_FOUND,
    summary="Delete a token",
)
def delete(token_id: str, request: Request, service: Service, _: Admin, idem: Idempotent) -> Response:
    authenticator: Authenticator = request.app.state.authenticator

    def produce() -> None:
        if not service.store.token_delete(token_id):
            raise NotFound("token", token_id)
        authenticator.forget()

    return idem.run(204, produce)
