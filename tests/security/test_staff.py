"""Staff reach what their work needs and nothing else: password guessing is bounded, an agent
cannot read another team's case, and a console's websocket ends with its session."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from tests.security.stack import MakeRun

PASSWORD = "a-long-enough-password"


@pytest.fixture(scope="module")
def staff(stack: MakeRun) -> Callable[[str, str], str]:
    """Creates an agent of a team with a bearer token, once per name; returns the token."""
    made: dict[str, str] = {}

    def make(name: str, team: str) -> str:
        if name not in made:
            stack.cli("create-user", name, "--role", "agent", "--team", team, "--password-stdin", stdin=PASSWORD + "\n")
            made[name] = stack.cli("create-token", "--user", name).strip()
        return made[name]

    return make


def handed_off_case(stack: MakeRun, token: str) -> dict[str, Any]:
    """A customer asks for a person through the messaging gateway; the case as the queue shows it."""
    sender = f"sec-{time.time_ns()}"
    status, replies = stack.gateway({"sender": sender, "message": "转人工"})
    assert status == 200, replies
    return stack.queued_case(token, sender)


def test_an_agent_cannot_read_another_teams_case(stack: MakeRun, staff) -> None:
    lee, kim = staff("lee", "l1"), staff("kim", "l2")
    case = handed_off_case(stack, lee)
    status, answer = stack.api("POST", f"/api/cases/{case['id']}/accept", lee)
    assert status == 200, answer
    for path in ("", "/timeline", "/transcript", "/messages"):
        status, answer = stack.api("GET", f"/api/cases/{case['id']}{path}", kim)
        assert status == 403, (path, status, answer)
        assert case["conversation_id"] not in json.dumps(answer), path
    assert stack.api("GET", f"/api/cases/{case['id']}", lee)[0] == 200


async def test_forty_parallel_wrong_passwords_check_only_a_few(stack: MakeRun, staff) -> None:
    staff("flood", "l1")
    url = stack.handoff + "/api/auth/login"
    async with aiohttp.ClientSession() as session:

        async def attempt(i: int) -> int:
            async with session.post(url, json={"username": "flood", "password": f"wrong-guess-{i:04d}"}) as resp:
                return resp.status

        statuses = await asyncio.gather(*(attempt(i) for i in range(40)))
        async with session.post(url, json={"username": "flood", "password": PASSWORD}) as resp:
            after = resp.status
    assert statuses.count(401) <= 5 and statuses.count(429) >= 35, sorted(statuses)
    assert after == 429  # even the right password waits for the window to pass


async def test_a_consoles_websocket_closes_at_logout(stack: MakeRun, staff) -> None:
    staff("wes", "l1")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:  # cookies of 127.0.0.1
        async with session.post(
            stack.handoff + "/api/auth/login", json={"username": "wes", "password": PASSWORD}
        ) as resp:
            assert resp.status == 200, await resp.text()
            csrf = (await resp.json())["csrf_token"]
        ws = await session.ws_connect(stack.handoff.replace("http", "ws", 1) + "/api/ws", origin=stack.handoff)
        hello = json.loads((await ws.receive(timeout=10)).data)
        assert hello["type"] == "hello"
        async with session.post(stack.handoff + "/api/auth/logout", headers={"X-CSRF-Token": csrf}) as resp:
            assert resp.status == 204
        frame = await ws.receive(timeout=10)
        assert frame.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), frame
        assert ws.close_code == 4401
