"""Follow-up visits survive a killed service: handoff_service runs as a real process, is killed
(SIGKILL) while it is asking due visits, and started again; every customer is asked exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from handoff_service.followups.states import ASK_INTENT

REPO = Path(__file__).resolve().parents[2]
VISITS = 40


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(db_url: str, rasa_url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "HANDOFF_DATABASE_URL": db_url,
        "HANDOFF_RASA_URL": rasa_url,
        "HANDOFF_RASA_TOKEN": "rasa-secret",
        "HANDOFF_PORT": str(_free_port()),
        "HANDOFF_SLA_INTERVAL_SECONDS": "0",
        "HANDOFF_REVIEW_POLL_SECONDS": "0",
        "HANDOFF_FOLLOW_UP_INTERVAL_SECONDS": "0.2",
        "HANDOFF_FOLLOW_UP_QUIET_HOURS": "off",
        "HANDOFF_TRANSCRIPT_TIMEOUT_SECONDS": "1",
        "HANDOFF_DELIVERY_TIMEOUT_SECONDS": "1",
        "HANDOFF_ACCESS_LOG": "false",
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "handoff_service", "serve"], cwd=REPO, env=env, stdout=out, stderr=out
        )


async def _until(check: Any, seconds: float, what: str, log: Path) -> None:
    for _ in range(int(seconds * 10)):
        if check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what} did not happen in {seconds} s; service log:\n{log.read_text()[-3000:]}")


async def test_each_due_visit_is_asked_once_across_a_kill_and_a_restart(h, rasa, db_url, tmp_path):
    alice = await h.user("alice")
    numbers = []
    for i in range(VISITS):
        case = await h.queued_case(conversation_id=f"kill-{i}")
        await h.post(f"/api/cases/{case['id']}/accept", alice)
        status, done = await h.post(f"/api/cases/{case['id']}/resolve", alice, {"result": "done"})
        assert status == 200, done
        numbers.append(done["number"])
    await h.deps.delivery.idle()
    rasa.slow_reach = 0.05  # each question takes a moment, so the kill lands in the middle

    log = tmp_path / "serve.log"
    first = _serve(db_url, rasa.url, log)
    try:
        await _until(lambda: len(rasa.triggered(ASK_INTENT)) >= VISITS // 4, 60, "a quarter of the visits", log)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    asked_before = len(rasa.triggered(ASK_INTENT))
    assert asked_before < VISITS, "the kill came too late to test anything"

    second = _serve(db_url, rasa.url, log)
    try:
        await _until(lambda: len(rasa.triggered(ASK_INTENT)) >= VISITS, 90, "every visit asked", log)
        await asyncio.sleep(8)  # leases of the killed process end; nothing may be asked again
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(15)

    asked = Counter(t["case_number"] for t in rasa.triggered(ASK_INTENT))
    assert sorted(asked) == sorted(numbers)
    assert set(asked.values()) == {1}, {n: c for n, c in asked.items() if c > 1}
