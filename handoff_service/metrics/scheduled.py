"""The packer (background task): every `metrics_pack_seconds`, packs the past days whose rollup rows
changed (blocks.py), so that the dashboard reads long periods as blocks. Today is left to the rows:
it changes with nearly every commit, and one day of rows is quick to read."""

from __future__ import annotations

from handoff_service.core import loops
from handoff_service.core.deps import Deps

from . import blocks

BATCH = 50  # days packed per round before looking at the clock again


class BlockPacker:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def run_once(self) -> int:
        """Packs every marked day before today (UTC); returns how many."""
        today = blocks.day_of(self.deps.clock.now())
        done = 0
        while True:
            n = await blocks.pack_marked(self.deps.tx, limit=BATCH, before=today)
            done += n
            if n < BATCH:
                return done

    async def run_forever(self) -> None:
        await loops.repeat(self.run_once, lambda: self.deps.settings.metrics_pack_seconds, "metrics packer")
