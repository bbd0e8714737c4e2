"""The Cloudify dialect: `/api/v3.1/executions` and `/api/v3.1/execution-groups` as cloudify-common
7.0.5's `CloudifyClient` calls them, over Conveyor's core services.

Mount it on the native app: `app.include_router(conveyor.dialects.cloudify.router)`.
Deployments are targets, deployment groups are target groups, `workflow_id` is
a workflow's name; the status mapping is `statuses.TO_CLOUDIFY`. Every answer,
errors included, is in Cloudify's shape (`errors.CloudifyRoute`), and a path or
method the dialect does not serve under `/api/v3.1` is answered 404/405 in that
shape too rather than by the native API's handlers.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from starlette.routing import compile_path

from conveyor.dialects.cloudify import executions, groups
from conveyor.dialects.cloudify.errors import METHOD_NOT_ALLOWED, NOT_FOUND, CloudifyRoute, cloudify_response

PREFIX = "/api/v3.1"
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]

router = APIRouter(prefix=PREFIX, route_class=CloudifyRoute, include_in_schema=False, tags=["cloudify"])
router.include_router(executions.router)
router.include_router(groups.router)
_SERVED = [
    (compile_path(PREFIX + r.path)[0], frozenset(r.methods or ()))
    for sub in (executions.router, groups.router)
    for r in sub.routes
    if isinstance(r, APIRoute)
]


@router.api_route("/{path:path}", methods=_METHODS)
def not_served(path: str, request: Request) -> Response:
    """A path the dialect does not have (404), or a method one of its paths does not take (405)."""
    allowed = sorted({m for regex, methods in _SERVED if regex.match(request.url.path) for m in methods})
    if allowed:
        return cloudify_response(
            405,
            METHOD_NOT_ALLOWED,
            f"{request.url.path} does not accept {request.method}; it accepts {', '.join(allowed)}",
        )
    return cloudify_response(
        404, NOT_FOUND, f"Requested URL {request.url.path} was not found: this server serves executions "
        "and execution-groups of the Cloudify REST API",
    )  # fmt: skip


__all__ = ["PREFIX", "router"]
