"""The command line, run as a real subprocess against the test database."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _cli(db_url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HANDOFF_DATABASE_URL": db_url, "HANDOFF_ARGON2_TIME_COST": "1"}
    return subprocess.run(
        [sys.executable, "-m", "handoff_service", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=120,
    )


async def test_cli_migrate_create_user_and_tokens(h, db_url, tmp_path):
    r = _cli(db_url, "migrate")
    assert r.returncode == 0, r.stderr
    r = _cli(
        db_url, "create-user", "zoe", "--role", "agent", "--team", "l1", "--password-stdin", stdin="a long password\n"
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["role"] == "agent"
    r = _cli(db_url, "create-user", "zoe", "--role", "agent", "--password-stdin", stdin="a long password\n")
    assert r.returncode == 2 and "already exists" in r.stderr
    r = _cli(db_url, "create-user", "yan", "--role", "agent", "--password-stdin", stdin="short\n")
    assert r.returncode == 2 and "at least" in r.stderr
    # a staff token works on staff routes
    r = _cli(db_url, "create-token", "--user", "zoe")
    assert r.returncode == 0, r.stderr
    staff_token = r.stdout.strip()
    status, me = await h.get("/api/auth/me", {"Authorization": f"Bearer {staff_token}"})
    assert status == 200 and me["username"] == "zoe"
    # the bot token goes to a 0600 file and only works on bot routes
    out = tmp_path / "var" / "bot.token"
    r = _cli(db_url, "create-token", "--bot", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    bot = {"Authorization": f"Bearer {out.read_text().strip()}"}
    assert (await h.get("/api/auth/me", bot))[0] == 403
    status, _ = await h.post(
        "/api/bot/cases", bot, {"channel": "w", "conversation_id": "c", "language": "en", "category": "x"}
    )
    assert status == 201
    # and the password works for the console login
    resp = await h.client.post("/api/auth/login", json={"username": "zoe", "password": "a long password"})
    assert resp.status == 200


def test_cli_help_lists_commands():
    r = subprocess.run([sys.executable, "-m", "handoff_service", "--help"], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0
    for cmd in ("migrate", "serve", "create-user", "create-token"):
        assert cmd in r.stdout


def test_import_has_no_side_effects():
    code = (
        "import sys, handoff_service.app, handoff_service.cli, handoff_service.models;"
        "assert 'asyncpg' not in sys.modules and 'aiosqlite' not in sys.modules, 'driver imported';"
        "print('ok')"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr
