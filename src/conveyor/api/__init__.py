"""The native REST API (`/api/v1`): FastAPI app factory, routers, auth, errors, SSE events."""

from __future__ import annotations

from conveyor.api.app import API_PREFIX, create_app
from conveyor.api.auth import create_token, resolve_auth_mode

__all__ = ["API_PREFIX", "create_app", "create_token", "resolve_auth_mode"]
