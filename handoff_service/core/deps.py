"""What every use case needs, built by the app factory and injected via a typed AppKey.

Only infrastructure lives here; each feature's own collaborators (the delivery
worker, Rasa's client, the style guide…) are injected where they are used.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TypedDict

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from .bus import EventBus, close_outbox, open_outbox
from .clock import Clock
from .config import Settings
from .hub import EventHub
from .security import LoginRateLimiter, Passwords
from .tiers import SLAConfig


class UserName(TypedDict):
    id: int
    username: str
    display_name: str


NameLoader = Callable[[AsyncConnection, set[int]], Awaitable[Iterable[UserName]]]


class UserNames:
    """id -> {id, username, display_name}; usernames never change, so they are cached.
    The loader (a staff query) is injected, so this cache knows no table."""

    def __init__(self, loader: NameLoader) -> None:
        self._loader = loader
        self._map: dict[int, UserName] = {}

    async def load(self, conn: AsyncConnection, ids: Iterable[int | None]) -> None:
        missing = {i for i in ids if i is not None and i not in self._map}
        if missing:
            for user in await self._loader(conn, missing):
                self._map[user["id"]] = user

    def get(self, user_id: int | None) -> UserName | None:
        return None if user_id is None else self._map.get(user_id)

    def username(self, user_id: int | None) -> str | None:
        user = self.get(user_id)
        return None if user is None else user["username"]


@dataclass
class Deps:
    settings: Settings
    engine: AsyncEngine
    read_engine: AsyncEngine
    clock: Clock
    sla: SLAConfig
    hub: EventHub
    bus: EventBus
    users: UserNames
    passwords: Passwords
    limiter: LoginRateLimiter
    # SQLite: writers queue here instead of in SQLite's sleeping busy handler
    write_lock: asyncio.Lock | None = field(default=None)

    @contextlib.asynccontextmanager
    async def tx(self) -> AsyncIterator[AsyncConnection]:
        """One write transaction (a use case). The domain events it records are
        published to the bus's listeners after it commits, and only then."""
        async with contextlib.AsyncExitStack() as stack:
            if self.write_lock is not None:
                await stack.enter_async_context(self.write_lock)
            conn = await stack.enter_async_context(self.engine.begin())
            events = open_outbox(conn)
            try:
                yield conn
            finally:
                close_outbox(conn)
        await self.bus.publish(events)


DEPS = web.AppKey("deps", Deps)
SETTINGS = web.AppKey("settings", Settings)
