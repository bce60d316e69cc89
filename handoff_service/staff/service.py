"""Staff accounts, bearer tokens and console sessions (use cases), and who a credential belongs to."""

from __future__ import annotations

import re
import secrets
import time
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from handoff_service.audit import service as audit
from handoff_service.core.bus import record
from handoff_service.core.clock import Clock
from handoff_service.core.config import DEFAULT_TOKEN_DAYS
from handoff_service.core.deps import Deps, UserName
from handoff_service.core.errors import Conflict, NotFound, RateLimited, Unauthenticated, ValidationFailed
from handoff_service.core.orm import table_of
from handoff_service.core.principal import AGENTS, BOT, BOT_PRINCIPAL, ROLES, STAFF, Principal
from handoff_service.core.security import BOT_TOKEN_PREFIX, STAFF_TOKEN_PREFIX, Passwords, new_token, token_hash

from .events import SignedOut
from .models import ApiToken, StaffSession, StaffUser

U = table_of(StaffUser)
TOK = table_of(ApiToken)
SES = table_of(StaffSession)
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
TEAM_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
MIN_PASSWORD = 10


def user_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "username": row.username,
        "display_name": row.display_name,
        "role": row.role,
        "team": row.team,
    }


async def create_user(
    engine: AsyncEngine,
    clock: Clock,
    passwords: Passwords,
    *,
    username: str,
    password: str,
    role: str,
    display_name: str | None = None,
    team: str | None = None,
) -> dict[str, Any]:
    if not USERNAME_RE.match(username):
        raise ValidationFailed("username: 2-64 of a-z, 0-9, '.', '_', '-'", code="invalid_field")
    if role not in ROLES:
        raise ValidationFailed(f"role must be one of {', '.join(ROLES)}", code="invalid_field")
    if len(password) < MIN_PASSWORD:
        raise ValidationFailed(f"password must have at least {MIN_PASSWORD} characters", code="weak_password")
    if team is not None and not TEAM_RE.match(team):
        raise ValidationFailed("team: 1-64 of a-z, 0-9, '.', '_', '-'", code="invalid_field")
    pw_hash = passwords.hash(password)
    now = clock.now()
    try:
        async with engine.begin() as conn:
            res = await conn.execute(
                insert(U)
                .values(
                    username=username,
                    display_name=display_name or username,
                    role=role,
                    team=team,
                    password_hash=pw_hash,
                    active=True,
                    created_at=now,
                )
                .returning(U)
            )
            row = res.one()
            await audit.record(
                conn,
                at=now,
                actor=None,
                actor_kind="cli",
                action="staff.create_user",
                target_type="staff",
                target_id=row.id,
                details={"username": username, "role": role, "team": team},
            )
    except IntegrityError:
        raise Conflict(f"user {username!r} already exists", code="user_exists") from None
    return user_json(row)


async def create_token(
    engine: AsyncEngine, clock: Clock, *, kind: str, username: str | None, name: str, days: float | None = None
) -> tuple[str, dict[str, Any]]:
    """Returns the token (shown once; only its SHA-256 is stored). It expires after
    `days`; by default a staff token after DEFAULT_TOKEN_DAYS, the bot's never."""
    now = clock.now()
    if days is None and kind == STAFF:
        days = DEFAULT_TOKEN_DAYS
    if days is not None and not 0 < days <= 3650:
        raise ValidationFailed("days must be between 0 and 3650", code="invalid_field")
    expires_at = None if days is None else now + timedelta(days=days)
    async with engine.begin() as conn:
        user_id = None
        if kind == STAFF:
            row = (await conn.execute(select(U).where(U.c.username == username))).first()
            if row is None or not row.active:
                raise NotFound(f"no active user {username!r}", code="unknown_user")
            user_id = row.id
            token = new_token(STAFF_TOKEN_PREFIX)
        elif kind == BOT:
            token = new_token(BOT_TOKEN_PREFIX)
        else:
            raise ValidationFailed("kind must be staff or bot", code="invalid_field")
        res = await conn.execute(
            insert(TOK)
            .values(
                token_hash=token_hash(token),
                kind=kind,
                user_id=user_id,
                name=name,
                created_at=now,
                expires_at=expires_at,
            )
            .returning(TOK.c.id)
        )
        token_id = res.scalar_one()
        await audit.record(
            conn,
            at=now,
            actor=None,
            actor_kind="cli",
            action="token.create",
            target_type="token",
            target_id=token_id,
            details={"kind": kind, "username": username, "name": name, "days": days},
        )
    expires = None if expires_at is None else expires_at.isoformat()
    return token, {"id": token_id, "kind": kind, "username": username, "name": name, "expires_at": expires}


async def revoke_token(engine: AsyncEngine, clock: Clock, token_id: int) -> bool:
    now = clock.now()
    async with engine.begin() as conn:
        res = await conn.execute(
            update(TOK).where(TOK.c.id == token_id, TOK.c.revoked_at.is_(None)).values(revoked_at=now)
        )
        if res.rowcount != 1:
            return False
        await audit.record(
            conn, at=now, actor=None, actor_kind="cli", action="token.revoke", target_type="token", target_id=token_id
        )
        return True


async def deactivate_user(engine: AsyncEngine, clock: Clock, username: str) -> bool:
    """The account can no longer log in; its sessions end and its tokens are revoked
    (open websockets close at the credential watch's next pass). False if no active user."""
    now = clock.now()
    async with engine.begin() as conn:
        row = (
            await conn.execute(
                update(U).where(U.c.username == username, U.c.active.is_(True)).values(active=False).returning(U.c.id)
            )
        ).first()
        if row is None:
            return False
        ended = (await conn.execute(delete(SES).where(SES.c.user_id == row.id))).rowcount
        revoked = (
            await conn.execute(
                update(TOK).where(TOK.c.user_id == row.id, TOK.c.revoked_at.is_(None)).values(revoked_at=now)
            )
        ).rowcount
        await audit.record(
            conn,
            at=now,
            actor=None,
            actor_kind="cli",
            action="staff.deactivate_user",
            target_type="staff",
            target_id=row.id,
            details={"username": username, "sessions_ended": ended, "tokens_revoked": revoked},
        )
        return True


def _unexpired(now: datetime) -> ColumnElement[bool]:
    return TOK.c.expires_at.is_(None) | (TOK.c.expires_at > now)


class PrincipalCache:
    """Short-lived cache of resolved credentials, so each request costs one
    SHA-256 and no database round trip. Revocation lags by at most `ttl`."""

    def __init__(self, ttl: float = 5.0) -> None:
        self.ttl = ttl
        self._items: dict[str, tuple[float, Principal]] = {}

    def get(self, key: str) -> Principal | None:
        item = self._items.get(key)
        if item is None or item[0] < time.monotonic():
            self._items.pop(key, None)
            return None
        return item[1]

    def put(self, key: str, p: Principal) -> None:
        if self.ttl <= 0:
            return
        if len(self._items) > 10_000:
            self._items.clear()
        self._items[key] = (time.monotonic() + self.ttl, p)

    def drop(self, key: str) -> None:
        self._items.pop(key, None)


async def principal_from_token(deps: Deps, token: str) -> Principal | None:
    h = token_hash(token)
    async with deps.read_engine.begin() as conn:
        row = (
            await conn.execute(
                select(TOK.c.kind, U.c.id, U.c.username, U.c.role, U.c.team, U.c.active)
                .select_from(TOK.outerjoin(U, TOK.c.user_id == U.c.id))
                .where(TOK.c.token_hash == h, TOK.c.revoked_at.is_(None), _unexpired(deps.clock.now()))
            )
        ).first()
    if row is None:
        return None
    if row.kind == BOT:
        return BOT_PRINCIPAL
    if not row.active:
        return None
    return Principal(kind=STAFF, user_id=row.id, username=row.username, role=row.role, team=row.team, token_hash=h)


async def principal_from_session(deps: Deps, cookie: str) -> Principal | None:
    h = token_hash(cookie)
    async with deps.read_engine.begin() as conn:
        row = (
            await conn.execute(
                select(SES.c.csrf_token, SES.c.expires_at, U.c.id, U.c.username, U.c.role, U.c.team, U.c.active)
                .select_from(SES.join(U, SES.c.user_id == U.c.id))
                .where(SES.c.token_hash == h)
            )
        ).first()
    if row is None or not row.active or row.expires_at <= deps.clock.now():
        return None
    return Principal(
        kind=STAFF,
        user_id=row.id,
        username=row.username,
        role=row.role,
        team=row.team,
        via="session",
        session_hash=h,
        csrf_token=row.csrf_token,
    )


async def login(deps: Deps, *, username: str, password: str, ip: str) -> tuple[str, str, dict[str, Any], datetime]:
    """Checks the password; returns (session cookie, csrf token, user, expiry)."""
    wait = deps.limiter.try_acquire(ip, username, time.monotonic())
    if wait:
        async with deps.tx() as conn:
            await audit.record(
                conn,
                at=deps.clock.now(),
                actor=None,
                action="auth.login",
                outcome="denied",
                ip=ip,
                details={"username": username, "code": "rate_limited"},
            )
        raise RateLimited("too many failed logins; try again later", retry_after=wait)
    async with deps.read_engine.begin() as conn:
        row = (await conn.execute(select(U).where(U.c.username == username))).first()
    ok = await deps.passwords.verify(row.password_hash if row is not None else None, password)
    now = deps.clock.now()
    if not ok or row is None or not row.active:
        async with deps.tx() as conn:
            await audit.record(
                conn,
                at=now,
                actor=None,
                action="auth.login",
                outcome="denied",
                ip=ip,
                details={"username": username, "code": "invalid_credentials"},
            )
        raise Unauthenticated("wrong username or password", code="invalid_credentials")
    deps.limiter.succeeded(ip, username)
    cookie = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    expires = now + timedelta(hours=deps.settings.session_hours)
    async with deps.tx() as conn:
        await conn.execute(
            insert(SES).values(
                token_hash=token_hash(cookie), user_id=row.id, csrf_token=csrf, created_at=now, expires_at=expires
            )
        )
        await conn.execute(delete(SES).where(SES.c.user_id == row.id, SES.c.expires_at <= now))
        actor = Principal(kind=STAFF, user_id=row.id, username=row.username, role=row.role, ip=ip)
        await audit.record(conn, at=now, actor=actor, action="auth.login", target_type="staff", target_id=row.id)
    return cookie, csrf, user_json(row), expires


async def logout(deps: Deps, p: Principal) -> None:
    async with deps.tx() as conn:
        if p.session_hash:
            await conn.execute(delete(SES).where(SES.c.token_hash == p.session_hash))
            record(conn, SignedOut(p.session_hash))
        await audit.record(
            conn, at=deps.clock.now(), actor=p, action="auth.logout", target_type="staff", target_id=p.user_id
        )


async def list_staff(deps: Deps) -> list[dict[str, Any]]:
    async with deps.read_engine.begin() as conn:
        rows = (await conn.execute(select(U).where(U.c.active.is_(True)).order_by(U.c.username))).all()
    return [user_json(r) for r in rows]


# ---------------------------------------------------------------- lookups for other features


async def load_user_names(conn: AsyncConnection, ids: set[int]) -> list[UserName]:
    """The loader of `Deps.users` (names shown on cases, messages and the timeline)."""
    rows = await conn.execute(select(U.c.id, U.c.username, U.c.display_name).where(U.c.id.in_(ids)))
    return [{"id": r.id, "username": r.username, "display_name": r.display_name} for r in rows]


async def active_agent(conn: AsyncConnection, username: str) -> int | None:
    """The id of an active staff member who can work cases, or None."""
    row = (await conn.execute(select(U.c.id, U.c.role).where(U.c.username == username, U.c.active.is_(True)))).first()
    return None if row is None or row.role not in AGENTS else row.id


class Member(NamedTuple):
    active: bool
    team: str | None


async def member(conn: AsyncConnection, user_id: int) -> Member | None:
    """Whether a staff member is active, and their team."""
    row = (await conn.execute(select(U.c.active, U.c.team).where(U.c.id == user_id))).first()
    return None if row is None else Member(bool(row.active), row.team)


async def team_exists(conn: AsyncConnection, team: str) -> bool:
    return (
        await conn.execute(select(U.c.id).where(U.c.team == team, U.c.active.is_(True)).limit(1))
    ).first() is not None


async def live_credentials(deps: Deps, hashes: set[str]) -> set[str]:
    """Those of these session or token hashes that still let an active staff member in."""
    if not hashes:
        return set()
    now = deps.clock.now()
    async with deps.read_engine.begin() as conn:
        sessions = await conn.execute(
            select(SES.c.token_hash)
            .select_from(SES.join(U, SES.c.user_id == U.c.id))
            .where(SES.c.token_hash.in_(hashes), SES.c.expires_at > now, U.c.active.is_(True))
        )
        tokens = await conn.execute(
            select(TOK.c.token_hash)
            .select_from(TOK.join(U, TOK.c.user_id == U.c.id))
            .where(TOK.c.token_hash.in_(hashes), TOK.c.revoked_at.is_(None), _unexpired(now), U.c.active.is_(True))
        )
        return {r.token_hash for r in sessions} | {r.token_hash for r in tokens}


async def teams_of(conn: AsyncConnection, ids: set[int | None]) -> set[str | None]:
    """The teams of these staff members."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return set()
    return set((await conn.execute(select(U.c.team).where(U.c.id.in_(wanted)))).scalars())


def team_members(team: str) -> Select[tuple[int]]:
    """The ids of a team's members, as a subquery for other features' filters."""
    return select(U.c.id).where(U.c.team == team)
