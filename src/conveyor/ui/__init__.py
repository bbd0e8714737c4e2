"""The web dashboard: one static page at `/` that talks to the native API from the browser.

Plain HTML, CSS and JavaScript in `static/`: no build step and nothing fetched
from elsewhere. The page reads and writes only through `/api/v1` (as any other
client would, with the same bearer tokens), so this module needs nothing from
the core: `create_app` includes `router`, which serves the page at `/` and its
assets under `/ui/`, outside the API's prefix so it never shadows an API route.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from starlette.exceptions import HTTPException

__all__ = ["ASSET_PREFIX", "STATIC_DIR", "router"]

STATIC_DIR = Path(__file__).resolve().parent / "static"
ASSET_PREFIX = "/ui"

#: Content type of each kind of asset; anything else in static/ is not served.
MEDIA_TYPES: dict[str, str] = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}

#: The page loads only its own script and stylesheet and talks only to its own origin;
#: no inline script can run, so a value that slipped into the DOM still could not execute.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
#: Revalidate on every load (cheap: ETag / Last-Modified), so an upgrade never serves a stale script.
_COMMON_HEADERS = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
_PAGE_HEADERS = {
    **_COMMON_HEADERS,
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
}

router = APIRouter(include_in_schema=False)


def _assets() -> dict[str, Path]:
    if not STATIC_DIR.is_dir():
        return {}
    return {
        p.name: p
        for p in STATIC_DIR.iterdir()
        if p.is_file() and p.suffix in MEDIA_TYPES and p.name != "index.html"
    }


#: name -> file, fixed at import: a request can only ever name one of these, never a path.
ASSETS = _assets()


@router.api_route("/", methods=["GET", "HEAD"])
async def dashboard() -> FileResponse:
    """The dashboard page."""
    return FileResponse(STATIC_DIR / "index.html", media_type=MEDIA_TYPES[".html"], headers=_PAGE_HEADERS)


@router.api_route(ASSET_PREFIX + "/{name}", methods=["GET", "HEAD"])
async def asset(name: str) -> FileResponse:
    """A script, stylesheet or image of the dashboard."""
    path = ASSETS.get(name)
    if path is None:
        raise HTTPException(status_code=404)
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix], headers=_COMMON_HEADERS)
