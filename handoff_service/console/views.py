"""The agent console: its page, and what it needs beyond the case routes: the merged
transcript and the phrasing style guide (standard phrases, taboo check)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from handoff_service.core.deps import DEPS
from handoff_service.core.http import AGENTS, CASE_ID, READ_ERRORS, RouteTable, json_response, principal
from handoff_service.core.pages import page
from handoff_service.rasa.client import RASA

from . import service
from .phrasing import STYLE_GUIDE

CONSOLE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

routes = RouteTable()


@routes.get(
    "/api/cases/{case_id}/transcript",
    summary=(
        "The conversation: the bot's part from Rasa's tracker merged with the case's customer and agent messages; "
        "rasa.available is false (with the reason) when Rasa could not be read"
    ),
    tag="messages",
    auth=AGENTS,
    path_params=[CASE_ID],
    response="Transcript",
    errors=READ_ERRORS,
)
async def get_transcript(request: web.Request, case_id: int) -> web.StreamResponse:
    return json_response(await service.transcript(request.app[DEPS], request.app[RASA], principal(request), case_id))


@routes.get(
    "/api/phrasing",
    summary="Standard phrases (one-click) and taboo phrases from the bot's style guide",
    tag="phrasing",
    auth=AGENTS,
    response="Phrasing",
    errors=(401, 403),
)
async def get_phrasing(request: web.Request) -> web.StreamResponse:
    return json_response(request.app[STYLE_GUIDE].phrases())


@routes.post(
    "/api/phrasing/check",
    summary="Taboo phrases in a draft reply (the linter's rule: case-insensitive, Traditional->Simplified)",
    tag="phrasing",
    auth=AGENTS,
    body="PhrasingCheck",
    response="PhrasingCheckResult",
    errors=(400, 401, 403, 413, 415),
)
async def check_phrasing(request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
    return json_response({"taboos": request.app[STYLE_GUIDE].find_taboos(body["text"])})


async def console_page(request: web.Request) -> web.StreamResponse:
    return page("console.html", CONSOLE_CSP)


async def root(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/console")


def install_pages(app: web.Application) -> None:
    app.router.add_get("/", root, name="root")
    app.router.add_get("/console", console_page, name="console")
