"""What the agent console needs beyond the case routes: the merged transcript,
private notes, and the phrasing style guide (standard phrases, taboo check)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .. import cases, transcript
from ..api import AGENTS, RouteTable, json_response, principal
from ..context import DEPS
from .cases import CASE_ID, READ_ERRORS, WRITE_ERRORS

routes = RouteTable()


@routes.get(
    "/api/cases/{case_id}/transcript",
    summary=(
        "The conversation: the bot's part from Rasa's tracker merged with the case's customer and agent messages; "
        "rasa.available is false (with the reason) when Rasa could not be read"
    ),
    tag="messages", auth=AGENTS, path_params=[CASE_ID], response="Transcript", errors=READ_ERRORS,
)
async def get_transcript(request: web.Request, case_id: int) -> web.StreamResponse:
    return json_response(await transcript.transcript(request.app[DEPS], case_id))


@routes.post(
    "/api/cases/{case_id}/notes", summary="Add a private note (staff only; a timeline entry, never sent to the customer)",
    tag="cases", auth=AGENTS, path_params=[CASE_ID], body="PrivateNote", status=201, response="PrivateNoteItem",
    errors=WRITE_ERRORS,
)
async def add_note(request: web.Request, case_id: int, body: dict[str, Any]) -> web.StreamResponse:
    note = await cases.add_note(request.app[DEPS], principal(request), case_id, body["text"].strip())
    return json_response(note, status=201)


@routes.get(
    "/api/phrasing", summary="Standard phrases (one-click) and taboo phrases from the bot's style guide",
    tag="phrasing", auth=AGENTS, response="Phrasing", errors=(401, 403),
)
async def get_phrasing(request: web.Request) -> web.StreamResponse:
    return json_response(request.app[DEPS].style_guide.phrases())


@routes.post(
    "/api/phrasing/check",
    summary="Taboo phrases in a draft reply (the linter's rule: case-insensitive, Traditional->Simplified)",
    tag="phrasing", auth=AGENTS, body="PhrasingCheck", response="PhrasingCheckResult", errors=(400, 401, 403, 413, 415),
)
async def check_phrasing(request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
    return json_response({"taboos": request.app[DEPS].style_guide.find_taboos(body["text"])})
