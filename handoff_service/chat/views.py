"""The customer chat page (/chat): the rasa-webchat widget talking to Rasa's socket.io channel.

It is served by an application of its own on its own port (`HANDOFF_CHAT_PORT`), with its script,
style sheet and the vendored widget and nothing else: another origin than the console's, so a
script on the chat page can never read the console's API or use an agent's session."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from handoff_service.core.config import Settings
from handoff_service.core.deps import SETTINGS
from handoff_service.core.pages import STATIC_DIR, page

CHAT_FILES = {"chat.js": "text/javascript", "chat.css": "text/css"}


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


async def chat_page(request: web.Request) -> web.StreamResponse:
    s = request.app[SETTINGS]
    return page("chat.html", chat_csp(s), {"socket_url": s.chat_socket_url, "socket_path": s.chat_socket_path})


def install_pages(app: web.Application) -> None:
    app.router.add_get("/chat", chat_page, name="chat")
    for name, content_type in CHAT_FILES.items():
        app.router.add_get(f"/static/{name}", _file(STATIC_DIR / name, content_type))
    app.router.add_static("/static/vendor/rasa-webchat/", STATIC_DIR / "vendor" / "rasa-webchat")


def _file(path: Path, content_type: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def serve(request: web.Request) -> web.StreamResponse:
        return web.FileResponse(path, headers={"Content-Type": f"{content_type}; charset=utf-8"})

    return serve
