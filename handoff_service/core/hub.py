"""In-process fan-out of live events to staff websockets.

Each socket has a bounded queue drained by its own sender, so one slow client
never delays the others; an event is serialised once for all receivers.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from .principal import AGENT

log = logging.getLogger(__name__)


# websocket close codes sent to the console
CLOSE_SHUTDOWN = 1001  # the service is stopping
CLOSE_TOO_SLOW = 4408  # the client did not keep up; it reconnects and reloads
CLOSE_SIGNED_OUT = 4401  # the session or token behind the socket ended (logout, revoked, expired)


@dataclass(eq=False)
class Subscriber:
    user_id: int
    role: str
    credential: str | None = None  # the hash of the session or token it was opened with
    queue: asyncio.Queue[str | None] = field(default_factory=lambda: asyncio.Queue(maxsize=1000))
    close_code: int = CLOSE_SHUTDOWN

    def close(self, code: int = CLOSE_SHUTDOWN) -> None:
        """Wake the sender with None (after discarding what is queued)."""
        self.close_code = code
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)


class EventHub:
    def __init__(self) -> None:
        self._subs: set[Subscriber] = set()

    def subscribe(self, user_id: int, role: str, credential: str | None = None) -> Subscriber:
        sub = Subscriber(user_id, role, credential)
        self._subs.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self._subs.discard(sub)

    @property
    def connections(self) -> int:
        return len(self._subs)

    def is_online(self, user_id: int) -> bool:
        """Whether the staff member has the console open (a live socket in this process)."""
        return any(s.user_id == user_id for s in self._subs)

    def online_users(self) -> dict[int, int]:
        """user id -> how many live sockets (consoles) they have open in this process."""
        out: dict[int, int] = {}
        for s in self._subs:
            out[s.user_id] = out.get(s.user_id, 0) + 1
        return out

    def online_agents(self) -> int:
        return len({s.user_id for s in self._subs if s.role == AGENT})

    def publish(
        self,
        event: dict[str, Any],
        *,
        users: set[int | None] | frozenset[int | None] | None = None,
        roles: set[str] | frozenset[str] | None = None,
    ) -> int:
        """Send to every socket whose user is in `users` or whose role is in `roles`.
        With neither given, send to all staff sockets. Returns the receiver count."""
        try:
            data = json.dumps(event, default=str, ensure_ascii=False)
            data.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates in free-form data
            data = json.dumps(event, default=str)
        n = 0
        for sub in list(self._subs):
            if users is not None or roles is not None:
                if not ((users and sub.user_id in users) or (roles and sub.role in roles)):
                    continue
            try:
                sub.queue.put_nowait(data)
                n += 1
            except asyncio.QueueFull:
                # Too slow to keep up: drop the socket; the console reconnects and reloads.
                self._subs.discard(sub)
                sub.close(CLOSE_TOO_SLOW)
                log.warning("websocket of user %s dropped: too slow", sub.user_id)
        return n

    def credentials(self) -> set[str]:
        return {s.credential for s in self._subs if s.credential is not None}

    def close_signed_out(self, credentials: set[str]) -> int:
        """Close every socket opened with one of these (ended) credentials."""
        ended = [s for s in self._subs if s.credential in credentials]
        for sub in ended:
            self._subs.discard(sub)
            sub.close(CLOSE_SIGNED_OUT)
        return len(ended)

    async def close_all(self) -> None:
        for sub in list(self._subs):
            self._subs.discard(sub)
            sub.close()
