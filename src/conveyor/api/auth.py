"""Bearer tokens and roles.

Secrets are random and stored only as a SHA-256 hash, so a copy of the
database does not hand out access. Roles are ordered viewer < operator < admin
and each route asks for the least role it needs (`require`); a worker token is
outside that order and passes only the worker protocol's routes. Lookups are cached
for a few seconds because every request authenticates and the hot path should
not cost a database read; a token deleted through this server is forgotten at
once, one deleted elsewhere within the cache's lifetime.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from conveyor.config import Settings
from conveyor.core.errors import Forbidden, Unauthorized
from conveyor.core.executions import ExecutionService
from conveyor.core.model import Role, Token
from conveyor.core.tokens import TokenService, hash_secret

OPEN = "open"
REQUIRED = "required"
AUTH_MODES = (OPEN, REQUIRED)
ANONYMOUS_NAME = "anonymous"

#: A worker token ranks below viewer: it may not even read; the worker routes admit it by name.
_RANK = {Role.WORKER: -1, Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a token's name and role, or the anonymous admin of an open server."""

    name: str
    role: Role
    token_id: str | None = None

    @property
    def scope(self) -> str:
        """What idempotency keys are scoped by, so two callers' keys never collide."""
        return self.token_id or ANONYMOUS_NAME

    def may(self, role: Role) -> bool:
        return _RANK[self.role] >= _RANK[role]


ANONYMOUS = Principal(ANONYMOUS_NAME, Role.ADMIN)


def create_token(service: ExecutionService, name: str, role: Role | str) -> tuple[Token, str]:
    """A token over `service`'s store, with its secret: for `conveyor token create` and tests."""
    return TokenService(service.store, service.clock).create(name, role)


def resolve_auth_mode(settings: Settings) -> str:
    """'auto' is open on a loopback address and required elsewhere; 'open' is refused off loopback."""
    mode = settings.auth.strip().lower()
    if mode == "auto":
        return OPEN if settings.is_loopback else REQUIRED
    if mode == REQUIRED:
        return REQUIRED
    if mode == OPEN:
        if not settings.is_loopback:
            raise ValueError(
                f"auth 'open' is only allowed on a loopback address, not on {settings.host!r}; "
                "use auth 'required' and create tokens with `conveyor token create`"
            )
        return OPEN
    raise ValueError(f"unknown auth mode {settings.auth!r}; use auto, required or open")


class Authenticator:
    """Turns an Authorization header into a Principal, with a short cache of token lookups."""

    def __init__(
        self, tokens: TokenService, mode: str, *, ttl: float = 5.0, max_entries: int = 10_000
    ) -> None:
        if mode not in AUTH_MODES:
            raise ValueError(f"auth mode must be one of {AUTH_MODES}, not {mode!r}")
        self.tokens = tokens
        self.mode = mode
        self._ttl = ttl
        self._max_entries = max_entries
        self._cache: dict[str, tuple[float, Token | None]] = {}
        self._lock = threading.Lock()

    def authenticate(self, authorization: str | None) -> Principal:
        if authorization is None or not authorization.strip():
            if self.mode == OPEN:
                return ANONYMOUS
            raise Unauthorized("this server requires a token: send 'Authorization: Bearer <token>'")
        scheme, _, secret = authorization.strip().partition(" ")
        secret = secret.strip()
        if scheme.lower() != "bearer" or not secret:
            raise Unauthorized("the Authorization header must be 'Bearer <token>'")
        token = self._lookup(secret)
        if token is None:
            raise Unauthorized("the token is not valid (unknown or deleted)")
        return Principal(token.name, token.role, token.id)

    def _lookup(self, secret: str) -> Token | None:
        token_hash = hash_secret(secret)  # the cache holds no secrets
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(token_hash)
        if hit is not None and hit[0] > now:
            return hit[1]
        token = self.tokens.find(secret)
        with self._lock:
            if len(self._cache) >= self._max_entries:
                self._cache.clear()  # bounded: random guesses cannot grow it without limit
            self._cache[token_hash] = (now + self._ttl, token)
        return token

    def forget(self) -> None:
        """Drop cached lookups, e.g. after a token was deleted, so it stops working at once."""
        with self._lock:
            self._cache.clear()


_bearer = HTTPBearer(
    auto_error=False, description="A token from `POST /api/v1/tokens` or `conveyor token create`."
)


def current_principal(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller. Reads the raw header (the scheme object is there for the OpenAPI document) so a
    malformed header is refused rather than taken for no header at all."""
    authenticator: Authenticator = request.app.state.authenticator
    return authenticator.authenticate(request.headers.get("authorization"))


def require(role: Role) -> Callable[[Principal], Principal]:
    """A dependency that lets the caller through only with at least `role`."""

    def check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not principal.may(role):
            raise Forbidden(
                f"{principal.name!r} has the {principal.role} role; this needs {role} or more",
                {"role": str(principal.role), "required": str(role)},
            )
        return principal

    return check


def require_worker(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    """The worker protocol: a worker token, or an admin (who may do anything)."""
    if principal.role not in (Role.WORKER, Role.ADMIN):
        raise Forbidden(
            f"{principal.name!r} has the {principal.role} role; the worker protocol needs a worker token",
            {"role": str(principal.role), "required": str(Role.WORKER)},
        )
    return principal


WorkerCaller = Annotated[Principal, Depends(require_worker)]
Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]
Operator = Annotated[Principal, Depends(require(Role.OPERATOR))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
