"""The loop of a background task: one pass, then a pause, forever; a failing pass is logged and
the next one runs. Cancelling the task ends it (see app.stop_tasks)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


async def repeat(step: Callable[[], Awaitable[object]], pause: Callable[[], float], what: str) -> None:
    """Runs `step` forever, waiting `pause()` seconds after each pass."""
    while True:
        try:
            await step()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s failed", what)
        await asyncio.sleep(pause())
