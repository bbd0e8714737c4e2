"""API tokens: made with a secret that is shown once and stored only as its hash.

The API's auth (api/auth.py), `POST /tokens` and `conveyor token create` all go
through this service, so tokens are made, listed, found and deleted one way.
"""

from __future__ import annotations

import builtins
import hashlib
import secrets

from conveyor.core.clock import Clock, SystemClock
from conveyor.core.errors import InvalidRequest, NotFound
from conveyor.core.ids import new_id
from conveyor.core.model import Role, Token
from conveyor.core.ports import Store

MAX_TOKEN_NAME = 200


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class TokenService:
    def __init__(self, store: Store, clock: Clock | None = None) -> None:
        self.store = store
        self.clock = clock or SystemClock()

    def create(self, name: str, role: Role | str) -> tuple[Token, str]:
        """Create and store a token; returns it with its secret, which exists nowhere else afterwards."""
        name = name.strip()
        if not name or len(name) > MAX_TOKEN_NAME:
            raise InvalidRequest(f"a token name must be 1 to {MAX_TOKEN_NAME} characters", {"field": "name"})
        try:
            parsed = Role(role)
        except ValueError:
            roles = ", ".join(r.value for r in Role)
            raise InvalidRequest(f"unknown role {role!r}; roles: {roles}", {"field": "role"}) from None
        secret = secrets.token_urlsafe(32)
        token = Token(
            id=new_id(), name=name, role=parsed, created_at=self.clock.now(), token_hash=hash_secret(secret)
        )
        self.store.token_add(token)
        return token, secret

    def list(self) -> builtins.list[Token]:
        return self.store.token_list()

    def find(self, secret: str) -> Token | None:
        """The token whose secret this is, or None."""
        return self.store.token_find(hash_secret(secret))

    def delete(self, token_id: str) -> None:
        if not self.store.token_delete(token_id):
            raise NotFound("token", token_id)

    def count(self) -> int:
        return self.store.token_count()
