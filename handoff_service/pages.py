"""The two browser pages served by the service: the agent console (/console)
and the customer chat page (/chat, the rasa-webchat widget), plus their static
files. Pages carry a Content-Security-Policy; scripts are files, never inline,
and the console writes every piece of data with textContent."""

from __future__ import annotations

import html
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from .config import PACKAGE_DIR, Settings
from .context import SETTINGS

STATIC_DIR = PACKAGE_DIR / "static"

CONSOLE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def _socket_origins(url: str) -> str:
    """The widget talks to Rasa over HTTP long-polling and websockets."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    ws = "wss" if parts.scheme == "https" else "ws"
    return f"{parts.scheme}://{parts.netloc} {ws}://{parts.netloc}"


def chat_csp(settings: Settings) -> str:
    # the widget (React + style-loader) injects its CSS as <style> elements: 'unsafe-inline' for styles only
    return (
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
        f"font-src 'self' data:; connect-src 'self' {_socket_origins(settings.chat_socket_url)}; "
        "media-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def _page(name: str, csp: str, values: dict[str, str] | None = None) -> web.Response:
    text = (STATIC_DIR / name).read_text(encoding="utf-8")
    for key, value in (values or {}).items():
        text = text.replace("{{" + key + "}}", html.escape(value, quote=True))
    return web.Response(
        text=text, content_type="text/html", charset="utf-8",
        headers={"Content-Security-Policy": csp, "Cache-Control": "no-store"},
    )


async def console_page(request: web.Request) -> web.StreamResponse:
    return _page("console.html", CONSOLE_CSP)


async def chat_page(request: web.Request) -> web.StreamResponse:
    s = request.app[SETTINGS]
    return _page("chat.html", chat_csp(s), {"socket_url": s.chat_socket_url, "socket_path": s.chat_socket_path})


async def root(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/console")


@web.middleware
async def static_cache(request: web.Request, handler: web.Handler) -> web.StreamResponse:
    resp = await handler(request)
    if request.path.startswith("/static/"):
        resp.headers["Cache-Control"] = "no-cache"  # revalidate (Last-Modified), do not store blindly
    return resp


def install_pages(app: web.Application) -> None:
    app.router.add_get("/", root, name="root")
    app.router.add_get("/console", console_page, name="console")
    app.router.add_get("/chat", chat_page, name="chat")
    app.router.add_static("/static/", Path(STATIC_DIR), name="static")
