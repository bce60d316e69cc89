"""handoff_service's side of bench/trainer_loop.py (runs with .venv-handoff/bin/python).

    .venv-handoff/bin/python bench/_trainer_service.py DATABASE_URL MESSAGES.json OUT.json

Migrates a fresh database, creates a trainer (`trainer1`, the password and an API token written to
OUT.json, mode 600: never on a command line) and collects the messages of MESSAGES.json (a list of
{"text", "language", "reason", "intents": [[name, confidence], ...]}) through the real
`review.service.collect`, from the app's own dependencies. Prints nothing on success.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from handoff_service.app import create_app  # noqa: E402
from handoff_service.core.config import Settings  # noqa: E402
from handoff_service.core.deps import DEPS  # noqa: E402
from handoff_service.core.migrate import upgrade  # noqa: E402
from handoff_service.core.security import Passwords  # noqa: E402
from handoff_service.review import service as review  # noqa: E402
from handoff_service.staff.service import create_token, create_user  # noqa: E402


async def seed(db_url: str, messages: list[dict[str, object]], out: Path) -> None:
    app = create_app(Settings(database_url=db_url, db_pool_size=2), run_background=False)
    runner = web.AppRunner(app)
    await runner.setup()  # cleanup_ctx: engines and Deps, no socket
    try:
        deps = app[DEPS]
        password = secrets.token_urlsafe(16)
        # argon2 cost does not matter here: the hash carries its parameters, the service checks it
        await create_user(
            deps.engine, deps.clock, Passwords(1, 1024, 1), username="trainer1", password=password, role="trainer"
        )
        token, _ = await create_token(deps.engine, deps.clock, kind="staff", username="trainer1", name="bench")
        now = datetime.now(UTC)
        for i, m in enumerate(messages):
            at = now - timedelta(minutes=len(messages) - i)
            intents = tuple((str(name), float(conf)) for name, conf in m["intents"])  # type: ignore[attr-defined]
            got = await review.collect(
                deps,
                review.Collected(
                    source=f"trainer-loop-{i}:{at.timestamp():.3f}",
                    conversation_id=f"trainer-loop-{i}",
                    at=at,
                    text=str(m["text"]),
                    reasons=(str(m["reason"]),),
                    intents=intents,
                    language=str(m["language"]),
                    script="simplified" if m["language"] == "zh" else "latin",
                    channel="socketio",
                ),
            )
            if got is None:
                raise SystemExit(f"message {i} was not collected")
    finally:
        await runner.cleanup()
    out.touch(mode=0o600)
    out.write_text(json.dumps({"username": "trainer1", "password": password, "token": token}), encoding="utf-8")
    os.chmod(out, 0o600)


def main() -> None:
    db_url, messages, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    upgrade(db_url)
    asyncio.run(seed(db_url, json.loads(messages.read_text(encoding="utf-8")), out))


if __name__ == "__main__":
    main()
