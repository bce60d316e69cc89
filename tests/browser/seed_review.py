"""Puts misunderstood customer messages into a browser test's review list through the service's own
use case (handoff_service.review.service.collect), as the importer does; run by Service.collect
(conftest.py) with the service's environment, so it writes to the same database:

    python tests/browser/seed_review.py < messages.json

stdin: a JSON list of review.Collected's fields (`at` as ISO time, `intents` as [[name, conf]]);
stdout: a JSON list of the items' ids."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime
from typing import Any

from handoff_service.core.bus import EventBus
from handoff_service.core.clock import SystemClock
from handoff_service.core.config import Settings
from handoff_service.core.db import build_engine, readonly
from handoff_service.core.deps import Deps, UserNames
from handoff_service.core.hub import EventHub
from handoff_service.core.security import LoginRateLimiter, Passwords
from handoff_service.core.tiers import load_sla
from handoff_service.review import service as review
from handoff_service.review.records import Collected
from handoff_service.staff.service import load_user_names


async def seed(messages: list[dict[str, Any]]) -> list[int | None]:
    settings = Settings.from_env()
    engine = build_engine(settings.database_url, pool_size=1)

    deps = Deps(
        settings=settings,
        engine=engine,
        read_engine=readonly(engine),
        clock=SystemClock(),
        sla=load_sla(settings.sla_file),
        hub=EventHub(),
        bus=EventBus(),
        users=UserNames(load_user_names),
        passwords=Passwords(1, 1024, 1, 1),
        limiter=LoginRateLimiter(1000, 60),
    )
    try:
        ids = []
        for m in messages:
            collected = Collected(
                **{
                    **m,
                    "at": datetime.fromisoformat(m["at"]),
                    "reasons": tuple(m["reasons"]),
                    "intents": tuple((name, float(conf)) for name, conf in m.get("intents", ())),
                }
            )
            ids.append(await review.collect(deps, collected))
        return ids
    finally:
        await engine.dispose()


if __name__ == "__main__":
    print(json.dumps(asyncio.run(seed(json.load(sys.stdin)))))
