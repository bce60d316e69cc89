"""Background tasks: their loop (`repeat`: one pass, then a pause, forever; a failing pass is
logged and the next one runs) and their end (`stop_tasks`)."""

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


async def stop_tasks(tasks: list[asyncio.Task[None]], *, every: float = 0.5) -> None:
    """Cancels the background tasks and waits until each has ended. A cancellation that arrives
    while the database driver awaits a reply can be swallowed on the way out of the pool (the
    task's loop then goes on as if nothing happened, seen on PostgreSQL): such a task is
    cancelled again at its next wait, every `every` seconds, until it ends."""
    for task in tasks:
        task.cancel()
    pending = set(tasks)
    while pending:
        _, pending = await asyncio.wait(pending, timeout=every)
        for task in pending:
            task.cancel()
    for task in tasks:
        if not task.cancelled() and task.exception() is not None:
            log.error("background task ended with an error", exc_info=task.exception())
