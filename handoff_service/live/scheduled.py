"""The credential watch (background task): a websocket lives only as long as the session
or token it was opened with. Every HANDOFF_AUTH_CACHE_SECONDS (at least 1 s) the
credentials of all open sockets are checked in one query; sockets of a session that
expired or a token revoked (also from another process, e.g. the CLI) or of a
deactivated user are closed with code 4401. A logout closes its sockets at once
(listeners.py)."""

from __future__ import annotations

import asyncio
import logging

from handoff_service.core.deps import Deps
from handoff_service.staff import service as staff

log = logging.getLogger(__name__)


class CredentialWatch:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    @property
    def interval(self) -> float:
        return max(1.0, self.deps.settings.auth_cache_seconds)

    async def run_once(self) -> int:
        """One pass; returns how many sockets it closed."""
        open_ = self.deps.hub.credentials()
        ended = open_ - await staff.live_credentials(self.deps, open_)
        return self.deps.hub.close_signed_out(ended) if ended else 0

    async def run_forever(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("credential check of open websockets failed")
