"""Serving browser pages and their static files: a page is an HTML file of
`static/` with a Content-Security-Policy; scripts are files, never inline.
The pages themselves belong to their features (console/, chat/)."""

from __future__ import annotations

import html
import mimetypes
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler

from .config import PACKAGE_DIR

STATIC_DIR = PACKAGE_DIR / "static"


def page(name: str, csp: str, values: dict[str, str] | None = None) -> web.Response:
    text = (STATIC_DIR / name).read_text(encoding="utf-8")
    for key, value in (values or {}).items():
        text = text.replace("{{" + key + "}}", html.escape(value, quote=True))
    return web.Response(
        text=text,
        content_type="text/html",
        charset="utf-8",
        headers={"Content-Security-Policy": csp, "Cache-Control": "no-store"},
    )


@web.middleware
async def static_cache(request: web.Request, handler: Handler) -> web.StreamResponse:
    resp: web.StreamResponse = await handler(request)
    if request.path.startswith("/static/"):
        resp.headers["Cache-Control"] = "no-cache"  # revalidate (Last-Modified), do not store blindly
    return resp


def install_static_types() -> None:
    # module scripts need a JavaScript type; do not depend on the host's MIME table
    mimetypes.add_type("text/javascript", ".js")


def install_static(app: web.Application) -> None:
    install_static_types()
    app.router.add_static("/static/", Path(STATIC_DIR), name="static")
