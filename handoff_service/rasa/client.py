"""The one client of Rasa (tracker reads, injected events, triggered intents).

Every call to Rasa goes through here: its URL, its authentication and its
timeouts are decided in one place. The calls go to the bridge routes Rasa's
launcher adds for this service (`bot/bridge.py`, under `/handoff/conversations/`),
with the bridge token as a bearer token in a header, never in a URL; that token
reaches nothing else of Rasa (no models, no other API). Failures raise
`RasaError`, which says whether Rasa answered (with which status) or could not
be reached.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

import aiohttp
from aiohttp import web

from handoff_service.core.config import Settings


class RasaError(Exception):
    def __init__(self, *, status: int | None = None, body: str = "", cause: BaseException | None = None) -> None:
        self.status = status  # Rasa's HTTP status; None when it could not be reached
        self.body = body[:200]
        self.cause = cause
        super().__init__(self.describe())

    def describe(self) -> str:
        if self.status is not None:
            return f"Rasa answered {self.status}: {self.body}"
        assert self.cause is not None
        return f"{type(self.cause).__name__}: {self.cause}".rstrip(": ")

    @property
    def reason(self) -> str:
        """Short form: the HTTP status, or the kind of network error."""
        return f"HTTP {self.status}" if self.status is not None else type(self.cause).__name__


class RasaClient:
    def __init__(self, settings: Settings, http: aiohttp.ClientSession) -> None:
        self.base_url = settings.rasa_url
        self.token = settings.rasa_token
        self.http = http

    def _url(self, conversation_id: str, suffix: str) -> str:
        return f"{self.base_url}/handoff/conversations/{quote(conversation_id, safe='')}/{suffix}"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def tracker_events(self, conversation_id: str, *, timeout: float) -> list[dict[str, Any]]:
        """Every event of a conversation (dicts only)."""
        data = await self._get(self._url(conversation_id, "tracker"), {}, timeout)
        events = data.get("events")
        return [e for e in events or [] if isinstance(e, dict)]

    async def review_events(self, after: int, limit: int, *, timeout: float) -> tuple[list[dict[str, Any]], int]:
        """The user and action records after the tracker store's event `after` (bot/bridge.py), and
        the id to read on from."""
        data = await self._get(f"{self.base_url}/handoff/review/events", {"after": after, "limit": limit}, timeout)
        events, next_after = data.get("events"), data.get("next_after")
        if not isinstance(events, list) or not isinstance(next_after, int) or next_after < after:
            raise RasaError(status=200, body="the review feed answered without events and next_after")
        return [e for e in events if isinstance(e, dict)], next_after

    async def intents(self, *, timeout: float) -> list[str]:
        """The intents (and retrieval intents' answers, faq/…) the loaded model knows."""
        names = (await self._get(f"{self.base_url}/handoff/intents", {}, timeout)).get("intents")
        return [n for n in names or [] if isinstance(n, str)]

    async def reachable(self, conversation_id: str, *, timeout: float) -> bool:
        """Whether a message sent now reaches the customer: a widget holding the conversation is
        connected, or its channel pushes to a messaging gateway (bot/bridge.py)."""
        return (await self._get(self._url(conversation_id, "reachable"), {}, timeout)).get("reachable") is True

    async def _get(self, url: str, params: dict[str, Any], timeout: float) -> dict[str, Any]:
        try:
            async with self.http.get(
                url, params=params, headers=self._headers(), timeout=aiohttp.ClientTimeout(total=timeout)
            ) as resp:
                if resp.status != 200:
                    raise RasaError(status=resp.status, body=await resp.text())
                data = await resp.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as e:
            raise RasaError(cause=e) from None
        return data if isinstance(data, dict) else {}

    async def append_events(self, conversation_id: str, events: list[dict[str, Any]], *, timeout: float) -> None:
        await self._post(self._url(conversation_id, "tracker/events"), events, timeout)

    async def trigger_intent(
        self, conversation_id: str, name: str, entities: dict[str, Any], *, timeout: float
    ) -> None:
        await self._post(self._url(conversation_id, "trigger_intent"), {"name": name, "entities": entities}, timeout)

    async def _post(self, url: str, body: Any, timeout: float) -> None:
        # the bridge always answers on the conversation's latest channel and runs the side effects
        try:
            async with self.http.post(
                url, headers=self._headers(), json=body, timeout=aiohttp.ClientTimeout(total=timeout)
            ) as resp:
                if 200 <= resp.status < 300:
                    await resp.read()
                    return
                raise RasaError(status=resp.status, body=await resp.text())
        except (aiohttp.ClientError, asyncio.TimeoutError) as e:
            raise RasaError(cause=e) from None


RASA = web.AppKey("rasa", RasaClient)
