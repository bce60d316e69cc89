"""What the service layer needs, built by the app factory and injected via typed AppKeys."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable

import aiohttp
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from .clock import Clock
from .config import Settings
from .events import EventHub
from .models import StaffUser
from .security import LoginRateLimiter, Passwords
from .sla import SLAConfig

if TYPE_CHECKING:
    from .delivery import DeliveryWorker
    from .sla_monitor import SLAMonitor


@dataclass
class Principal:
    """Who is calling: a staff member (session or token) or the bot service."""

    kind: str  # staff | bot
    user_id: int | None = None
    username: str | None = None
    role: str | None = None
    team: str | None = None
    via: str = "token"  # token | session
    session_hash: str | None = None
    csrf_token: str | None = None
    ip: str | None = None

    @property
    def actor_kind(self) -> str:
        return "bot" if self.kind == "bot" else "agent"

    @property
    def actor_id(self) -> str:
        return "bot" if self.kind == "bot" else str(self.username)


class UserNames:
    """id -> (username, display name); usernames never change, so cache them."""

    def __init__(self) -> None:
        self._map: dict[int, dict[str, Any]] = {}

    async def load(self, conn: AsyncConnection, ids: set[int | None]) -> dict[int, dict[str, Any]]:
        missing = {i for i in ids if i is not None and i not in self._map}
        if missing:
            t = StaffUser.__table__
            rows = await conn.execute(
                select(t.c.id, t.c.username, t.c.display_name).where(t.c.id.in_(missing))
            )
            for r in rows:
                self._map[r.id] = {"id": r.id, "username": r.username, "display_name": r.display_name}
        return self._map

    def get(self, user_id: int | None) -> dict[str, Any] | None:
        return None if user_id is None else self._map.get(user_id)


@dataclass
class Deps:
    settings: Settings
    engine: AsyncEngine
    read_engine: AsyncEngine
    clock: Clock
    sla: SLAConfig
    hub: EventHub
    passwords: Passwords
    limiter: LoginRateLimiter
    users: UserNames = field(default_factory=UserNames)
    delivery: "DeliveryWorker | None" = None
    sla_monitor: "SLAMonitor | None" = None
    # SQLite: writers queue here instead of in SQLite's sleeping busy handler
    write_lock: asyncio.Lock | None = None
    # called after commit with a delivery id, to attempt it now
    on_delivery: Callable[[int, Any], None] | None = None
    # outgoing HTTP (Rasa's tracker for transcripts); the delivery worker shares it
    http: aiohttp.ClientSession | None = None
    style_guide: Any = None


    @contextlib.asynccontextmanager
    async def tx(self) -> AsyncIterator[AsyncConnection]:
        """One write transaction (a use case)."""
        if self.write_lock is None:
            async with self.engine.begin() as conn:
                yield conn
        else:
            async with self.write_lock, self.engine.begin() as conn:
                yield conn


DEPS = web.AppKey("deps", Deps)
SETTINGS = web.AppKey("settings", Settings)
