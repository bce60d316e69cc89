"""Command line: python -m handoff_service migrate|serve|create-user|create-token|revoke-token|deactivate-user|
demo-data|metrics-rebuild."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from handoff_service.core.clock import SystemClock
from handoff_service.core.config import Settings
from handoff_service.core.errors import DomainError
from handoff_service.core.principal import ROLES
from handoff_service.core.security import Passwords
from handoff_service.demo.patterns import DETAILS as DEMO_DETAILS


def _configure_logging(level: str) -> None:
    from handoff_service.core.pii import install_masking

    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_masking()


def _with_engine(settings: Settings, fn: Callable[[Any], Awaitable[Any]]) -> Any:
    from handoff_service.core.db import build_engine

    async def run() -> Any:
        engine = build_engine(settings.database_url, pool_size=1)
        try:
            return await fn(engine)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from handoff_service.core.migrate import upgrade

    upgrade(settings.database_url)
    print("database is at the latest revision")
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    if args.host:
        settings = settings.with_(host=args.host)
    if args.port:
        settings = settings.with_(port=args.port)
    _configure_logging(settings.log_level)
    if args.migrate:
        from handoff_service.core.migrate import upgrade

        upgrade(settings.database_url)
    try:
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    except ImportError:  # optional speed-up
        pass
    asyncio.run(_serve(settings))
    return 0


async def _serve(settings: Settings) -> None:
    """The console and API on HANDOFF_PORT and, when HANDOFF_CHAT_PORT is set, the customer chat page
    on that port (another origin); until SIGINT or SIGTERM, then a graceful shutdown of both."""
    import signal

    from aiohttp import web

    from handoff_service.app import create_app, create_chat_app

    access_log = logging.getLogger("aiohttp.access") if settings.access_log else None
    listeners = [(create_app(settings), settings.port, "")]
    if settings.chat_port:
        listeners.append((create_chat_app(settings), settings.chat_port, " (customer chat page: /chat)"))
    runners: list[web.AppRunner] = []
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        for app, port, what in listeners:
            runner = web.AppRunner(app, access_log=access_log)
            await runner.setup()
            runners.append(runner)
            await web.TCPSite(runner, settings.host, port).start()
            print(f"handoff_service listening on http://{settings.host}:{port}{what}", flush=True)
        await stop.wait()
    finally:
        for runner in reversed(runners):
            await runner.cleanup()


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    env = os.environ.get("HANDOFF_NEW_PASSWORD")
    if env:
        return env
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise SystemExit("passwords differ")
    return first


def cmd_create_user(settings: Settings, args: argparse.Namespace) -> int:
    from handoff_service.staff.service import create_user

    password = _read_password(args)
    pw = Passwords(settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism)
    user = _with_engine(
        settings,
        lambda e: create_user(
            e,
            SystemClock(),
            pw,
            username=args.username,
            password=password,
            role=args.role,
            display_name=args.display_name,
            team=args.team,
        ),
    )
    print(json.dumps(user, ensure_ascii=False))
    return 0


def cmd_create_token(settings: Settings, args: argparse.Namespace) -> int:
    from handoff_service.staff.service import create_token

    kind = "bot" if args.bot else "staff"
    name = args.name or ("bot service" if args.bot else f"api token for {args.user}")
    days = args.days if args.days is not None else (None if args.bot else settings.token_days)
    token, info = _with_engine(
        settings, lambda e: create_token(e, SystemClock(), kind=kind, username=args.user, name=name, days=days)
    )
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(token + "\n")
        print(json.dumps({**info, "written_to": str(out)}), file=sys.stderr)
    else:
        print(json.dumps(info), file=sys.stderr)
        print(token)
    return 0


def cmd_revoke_token(settings: Settings, args: argparse.Namespace) -> int:
    from handoff_service.staff.service import revoke_token

    ok = _with_engine(settings, lambda e: revoke_token(e, SystemClock(), args.id))
    print("revoked" if ok else "no such active token")
    return 0 if ok else 1


def cmd_deactivate_user(settings: Settings, args: argparse.Namespace) -> int:
    from handoff_service.staff.service import deactivate_user

    ok = _with_engine(settings, lambda e: deactivate_user(e, SystemClock(), args.username))
    print("deactivated: sessions ended, tokens revoked" if ok else "no such active user")
    return 0 if ok else 1


def cmd_demo_data(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    from handoff_service.core.migrate import upgrade
    from handoff_service.demo import service as demo
    from handoff_service.demo.patterns import CASES_PER_WEEK
    from handoff_service.metrics.service import rebuild

    upgrade(settings.database_url)
    if args.remove:
        removed = _with_engine(settings, demo.remove)
        _with_engine(settings, rebuild)  # the dashboard's rollups without the demo cases
        print(json.dumps({"removed": removed}))
        return 0
    try:
        # by default the history ends where today begins (service zone): today holds only real chats
        today = datetime.now(ZoneInfo(settings.case_number_tz)).replace(hour=0, minute=0, second=0, microsecond=0)
        now = datetime.fromisoformat(args.now) if args.now else today
    except ValueError:
        raise SystemExit(f"--now: not an ISO 8601 time: {args.now!r}") from None
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    days = args.days if args.days is not None else 7 * args.weeks
    if not 1 <= days <= 182 or (args.cases is not None and not 1 <= args.cases <= 2_000_000):
        raise SystemExit("--weeks must be 1-26, --days 1-182 and --cases 1-2000000")
    if args.teams > args.agents:
        raise SystemExit("--teams: at most one team per agent")
    cases = args.cases if args.cases is not None else max(1, round(days * CASES_PER_WEEK / 7))
    opts = demo.options(settings, seed=args.seed, now=now, days=days, cases=cases, detail=args.detail)
    summary = _with_engine(
        settings,
        lambda e: demo.write(
            e,
            opts,
            agents=args.agents,
            teams=args.teams,
            force=args.force,
            progress=lambda m: print(m, file=sys.stderr, flush=True),
        ),
    )
    # the history went into the raw tables in bulk: the dashboard's rollups are rebuilt from them
    summary["metrics_rebuilt"] = _with_engine(settings, rebuild)
    print(json.dumps(summary))
    return 0


def cmd_metrics_rebuild(settings: Settings, args: argparse.Namespace) -> int:
    import time

    from handoff_service.metrics.service import rebuild

    started = time.monotonic()
    n = _with_engine(settings, rebuild)
    print(f"metrics rollups rebuilt from the raw tables: {n} cases in {time.monotonic() - started:.1f} s")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m handoff_service", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="create/upgrade the database schema (Alembic)")
    s = sub.add_parser("serve", help="run the HTTP service")
    s.add_argument("--host")
    s.add_argument("--port", type=int)
    s.add_argument("--migrate", action="store_true", help="migrate before serving")
    u = sub.add_parser(
        "create-user", help="create a staff account (password from a prompt, stdin or HANDOFF_NEW_PASSWORD)"
    )
    u.add_argument("username")
    u.add_argument("--role", choices=ROLES, required=True)
    u.add_argument("--team")
    u.add_argument("--display-name")
    u.add_argument("--password-stdin", action="store_true")
    t = sub.add_parser("create-token", help="create a bearer token (printed once; only its hash is stored)")
    g = t.add_mutually_exclusive_group(required=True)
    g.add_argument("--user", help="staff token for this user")
    g.add_argument("--bot", action="store_true", help="the bot service token (bot routes only)")
    t.add_argument("--name")
    t.add_argument(
        "--days", type=float, help="expires after this many days (staff default HANDOFF_TOKEN_DAYS=90; bot: never)"
    )
    t.add_argument("--out", help="write the token to this file (mode 0600), e.g. var/bot.token")
    r = sub.add_parser("revoke-token", help="revoke a bearer token by id")
    r.add_argument("id", type=int)
    d = sub.add_parser("deactivate-user", help="end a staff account: no login, sessions ended, tokens revoked")
    d.add_argument("username")
    m = sub.add_parser(
        "demo-data", help="fill the database with a seeded, realistic few weeks of demo cases (or remove them)"
    )
    m.add_argument("--weeks", type=int, default=4, help="weeks of history before --now (default 4)")
    m.add_argument("--days", type=int, help="days of history before --now (instead of --weeks; 1-182)")
    m.add_argument("--seed", type=int, default=42, help="same seed, same data (default 42)")
    m.add_argument("--cases", type=int, help="number of cases (default 400 a week)")
    m.add_argument(
        "--detail",
        choices=DEMO_DETAILS,
        default=DEMO_DETAILS[0],
        help="how much a case says: standard (about 9 timeline entries), full (about 11: longer chats, "
        "agents' notes, the bot's corrections)",
    )
    m.add_argument(
        "--now",
        help="end of the history, ISO 8601 (default: the start of today in the service zone; without an offset: UTC)",
    )
    m.add_argument("--agents", type=int, default=12, choices=range(2, 201), metavar="2-200", help="demo agents")
    m.add_argument("--teams", type=int, default=3, choices=range(1, 51), metavar="1-50", help="demo teams (default 3)")
    m.add_argument("--force", action="store_true", help="write even though the database holds real cases")
    m.add_argument("--remove", action="store_true", help="remove the demo cases and the unused demo agents")
    sub.add_parser("metrics-rebuild", help="rebuild the KPI rollups (metric_*) from cases, timeline and messages")
    return p


COMMANDS = {
    "migrate": cmd_migrate,
    "serve": cmd_serve,
    "create-user": cmd_create_user,
    "create-token": cmd_create_token,
    "revoke-token": cmd_revoke_token,
    "deactivate-user": cmd_deactivate_user,
    "demo-data": cmd_demo_data,
    "metrics-rebuild": cmd_metrics_rebuild,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings.from_env()
    try:
        return COMMANDS[args.command](settings, args)
    except DomainError as e:
        print(f"error: {e.message}", file=sys.stderr)
        return 2
