"""Staff login, CSRF, cookie flags, bearer tokens, the bot token's scope, roles, rate limit."""

from __future__ import annotations

from datetime import datetime

from conftest import PASSWORD
from sqlalchemy import select

from handoff_service.models import ApiToken, StaffUser
from handoff_service.staff.service import create_token, revoke_token


async def _login(h, username="alice", password=PASSWORD, ip_headers=None):
    resp = await h.client.post(
        "/api/auth/login", json={"username": username, "password": password}, headers=ip_headers or {}
    )
    return resp, await resp.json()


async def test_login_sets_secure_cookie_flags_and_returns_csrf(h):
    await h.user("alice")
    resp, body = await _login(h)
    assert resp.status == 200
    assert body["user"]["username"] == "alice" and body["csrf_token"]
    cookies = resp.headers.getall("Set-Cookie")
    session = next(c for c in cookies if c.startswith("handoff_session="))
    csrf = next(c for c in cookies if c.startswith("handoff_csrf="))
    assert "HttpOnly" in session and "SameSite=Strict" in session and "Path=/" in session
    assert "HttpOnly" not in csrf and "SameSite=Strict" in csrf
    assert "Secure" not in session  # plain http on localhost, HANDOFF_COOKIE_SECURE=false
    status, me = await h.get("/api/auth/me")
    assert status == 200 and me["username"] == "alice" and me["via"] == "session"


async def test_secure_flag_when_configured(aiohttp_client, settings, clock, h):
    from handoff_service.app import create_app

    await h.user("alice")
    client = await aiohttp_client(create_app(settings.with_(cookie_secure="true"), clock=clock, run_background=False))
    resp = await client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    session = next(c for c in resp.headers.getall("Set-Cookie") if c.startswith("handoff_session="))
    assert "Secure" in session


async def test_wrong_password_and_unknown_user_look_the_same(h):
    await h.user("alice")
    r1, b1 = await _login(h, password="wrong password!")
    r2, b2 = await _login(h, username="nobody")
    assert r1.status == r2.status == 401
    assert b1 == b2 == {"error": {"code": "invalid_credentials", "message": "wrong username or password"}}


async def test_login_rate_limit_per_ip_and_username(h):
    await h.user("alice")
    await h.user("bob")
    for _ in range(h.settings.login_max_failures):
        resp, _ = await _login(h, password="nope nope nope")
        assert resp.status == 401
    resp, body = await _login(h)  # even the right password is refused now
    assert resp.status == 429 and body["error"]["code"] == "rate_limited"
    assert int(resp.headers["Retry-After"]) > 0
    resp, _ = await _login(h, username="bob")  # another username is not affected
    assert resp.status == 200


async def test_csrf_required_for_cookie_state_changes(h):
    await h.user("alice")
    case = await h.queued_case()
    _, body = await _login(h)
    token = body["csrf_token"]
    status, err = await h.post(f"/api/cases/{case['id']}/accept")
    assert status == 403 and err["error"]["code"] == "csrf_failed"
    status, err = await h.post(f"/api/cases/{case['id']}/accept", {"X-CSRF-Token": "forged"})
    assert status == 403 and err["error"]["code"] == "csrf_failed"
    status, ok = await h.post(f"/api/cases/{case['id']}/accept", {"X-CSRF-Token": token})
    assert status == 200 and ok["owner"]["username"] == "alice"


async def test_bearer_needs_no_csrf(h):
    alice = await h.user("alice")
    case = await h.queued_case()
    status, _ = await h.post(f"/api/cases/{case['id']}/accept", alice)
    assert status == 200


async def test_logout_ends_the_session(h):
    await h.user("alice")
    _, body = await _login(h)
    status, _ = await h.post("/api/auth/logout", {"X-CSRF-Token": body["csrf_token"]})
    assert status == 204
    h.client.session.cookie_jar.clear()
    status, _ = await h.get("/api/auth/me")
    assert status == 401


async def test_stolen_cookie_is_useless_after_logout(h):
    await h.user("alice")
    resp, body = await _login(h)
    cookie = resp.cookies["handoff_session"].value
    await h.post("/api/auth/logout", {"X-CSRF-Token": body["csrf_token"]})
    h.client.session.cookie_jar.clear()
    status, _ = await h.get("/api/auth/me", {"Cookie": f"handoff_session={cookie}"})
    assert status == 401


async def test_bot_token_only_on_bot_routes_and_vice_versa(h):
    alice = await h.user("alice")
    sup = await h.user("sam", role="supervisor")
    case = await h.queued_case()
    for method, path in (
        ("GET", "/api/queue"),
        ("POST", f"/api/cases/{case['id']}/accept"),
        ("GET", f"/api/cases/{case['id']}"),
        ("GET", "/api/audit"),
        ("GET", "/api/auth/me"),
    ):
        status, body = await h.call(method, path, h.bot)
        assert status == 403 and body["error"]["code"] == "staff_only", path
    for headers in (alice, sup):
        status, body = await h.get(f"/api/bot/cases/{case['number']}", headers)
        assert status == 403 and body["error"]["code"] == "bot_only"
        status, body = await h.post(
            "/api/bot/cases", headers, {"channel": "w", "conversation_id": "c", "language": "en", "category": "x"}
        )
        assert status == 403 and body["error"]["code"] == "bot_only"


async def test_roles(h):
    alice = await h.user("alice")
    tina = await h.user("tina", role="trainer")
    sup = await h.user("sam", role="supervisor")
    case = await h.queued_case()
    status, body = await h.get("/api/queue", tina)
    assert status == 403 and body["error"]["code"] == "wrong_role"
    status, _ = await h.post(f"/api/cases/{case['id']}/accept", tina)
    assert status == 403
    status, _ = await h.get("/api/auth/me", tina)
    assert status == 200
    status, body = await h.get("/api/audit", alice)
    assert status == 403 and body["error"]["code"] == "wrong_role"
    status, _ = await h.get("/api/audit", sup)
    assert status == 200


async def test_unauthenticated_and_bad_tokens(h):
    status, body = await h.get("/api/queue")
    assert status == 401 and body["error"]["code"] == "unauthenticated"
    status, body = await h.get("/api/queue", {"Authorization": "Bearer hsta_not-a-real-token"})
    assert status == 401 and body["error"]["code"] == "invalid_token"
    status, body = await h.get("/api/queue", {"Authorization": "Basic YWxpY2U6eA=="})
    assert status == 401 and body["error"]["code"] == "invalid_token"


async def test_revoked_token_is_refused(h):
    await h.user("alice")
    token, info = await create_token(h.deps.engine, h.clock, kind="staff", username="alice", name="t")
    headers = {"Authorization": f"Bearer {token}"}
    assert (await h.get("/api/auth/me", headers))[0] == 200
    assert await revoke_token(h.deps.engine, h.clock, info["id"])
    assert (await h.get("/api/auth/me", headers))[0] == 401


async def test_only_hashes_are_stored(h):
    await h.user("alice")
    token, _ = await create_token(h.deps.engine, h.clock, kind="bot", username=None, name="b")
    async with h.deps.engine.connect() as conn:
        hashes = (await conn.execute(select(ApiToken.token_hash))).scalars().all()
        pw = (await conn.execute(select(StaffUser.password_hash).where(StaffUser.username == "alice"))).scalar_one()
    assert token not in hashes and all(len(x) == 64 for x in hashes)
    assert pw.startswith("$argon2id$") and PASSWORD not in pw


async def test_security_headers(h):
    resp = await h.client.get("/api/health")
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Cache-Control"] == "no-store"


async def test_parallel_wrong_logins_cannot_pass_the_limit_together(h):
    """40 wrong passwords at once: the check and the count are one step, so no more than
    the allowed number are even tried; the rest are refused before hashing."""
    import asyncio

    await h.user("alice")
    results = await asyncio.gather(*(_login(h, password=f"wrong password {i}") for i in range(40)))
    statuses = [r.status for r, _ in results]
    assert statuses.count(401) == h.settings.login_max_failures
    assert statuses.count(429) == 40 - h.settings.login_max_failures
    resp, _ = await _login(h)
    assert resp.status == 429


def test_login_limit_counts_per_username_and_per_ip_too():
    from handoff_service.core.security import LoginRateLimiter

    limiter = LoginRateLimiter(max_failures=3, window_seconds=60, max_per_user=5, max_per_ip=8)
    # one user attacked from many addresses: stopped after max_per_user
    for i in range(5):
        assert limiter.try_acquire(f"10.0.0.{i}", "alice", now=0.0) == 0
    assert limiter.try_acquire("10.0.0.99", "alice", now=1.0) > 0
    # one address spraying many users: stopped after max_per_ip
    for i in range(8):
        assert limiter.try_acquire("10.1.1.1", f"user{i}", now=2.0) == 0
    assert limiter.try_acquire("10.1.1.1", "someone-else", now=3.0) > 0
    # a success forgives that address and user, not the others
    assert limiter.try_acquire("10.2.2.2", "bob", now=4.0) == 0
    limiter.succeeded("10.2.2.2", "bob")
    assert limiter.try_acquire("10.2.2.2", "bob", now=4.0) == 0
    # the window passes
    assert limiter.try_acquire("10.0.0.99", "alice", now=61.0) == 0


async def test_password_hashing_runs_a_bounded_number_at_once(monkeypatch):
    import asyncio
    import threading
    import time

    from handoff_service.core.security import Passwords

    pw = Passwords(1, 1024, 1, concurrency=2)
    running, peak, lock = 0, 0, threading.Lock()

    def slow_verify(stored, password):
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return False

    monkeypatch.setattr(pw, "verify_sync", slow_verify)
    await asyncio.gather(*(pw.verify(None, "x") for _ in range(10)))
    assert peak == 2


async def test_staff_tokens_expire(h):
    from handoff_service.staff.service import create_token, create_user

    await create_user(h.deps.engine, h.clock, h.deps.passwords, username="dora", password=PASSWORD, role="agent")
    token, info = await create_token(h.deps.engine, h.clock, kind="staff", username="dora", name="t", days=1)
    assert info["expires_at"] is not None
    headers = {"Authorization": f"Bearer {token}"}
    status, _ = await h.get("/api/auth/me", headers)
    assert status == 200
    h.clock.advance(hours=25)
    status, body = await h.get("/api/auth/me", headers)
    assert status == 401 and body["error"]["code"] == "invalid_token"


async def test_staff_tokens_expire_by_default_and_bot_tokens_do_not(h):
    from handoff_service.staff.service import create_token

    await h.user("erin")
    _, staff_info = await create_token(h.deps.engine, h.clock, kind="staff", username="erin", name="t")
    _, bot_info = await create_token(h.deps.engine, h.clock, kind="bot", username=None, name="b")
    days = (datetime.fromisoformat(staff_info["expires_at"]) - h.clock.now()).days
    assert days == h.settings.token_days == 90
    assert bot_info["expires_at"] is None


async def _wrong_logins_from(client, forwarded_for: str, n: int) -> list[int]:
    statuses = []
    for _ in range(n):
        resp = await client.post(
            "/api/auth/login",
            json={"username": "alice", "password": "nope nope nope"},
            headers={"X-Forwarded-For": forwarded_for},
        )
        statuses.append(resp.status)
    return statuses


async def test_behind_our_proxy_each_caller_is_limited_not_the_proxy(aiohttp_client, settings, clock, h):
    """Through a trusted reverse proxy, the pair limit counts each caller (X-Forwarded-For as the
    proxy appended it): one guesser does not lock everybody out of the proxy's address."""
    from handoff_service.app import create_app

    await h.user("alice")
    s = settings.with_(trusted_proxies=("127.0.0.1",), login_max_failures=3)
    client = await aiohttp_client(create_app(s, clock=clock, run_background=False))
    assert await _wrong_logins_from(client, "198.51.100.7", 4) == [401, 401, 401, 429]
    # another customer of the same proxy still gets their password checked
    resp = await client.post(
        "/api/auth/login", json={"username": "alice", "password": PASSWORD}, headers={"X-Forwarded-For": "203.0.113.9"}
    )
    assert resp.status == 200
    # what a client writes left of the proxy's entry is not believed
    assert await _wrong_logins_from(client, "10.9.9.9, 198.51.100.7", 1) == [429]


async def test_without_a_trusted_proxy_x_forwarded_for_is_ignored(aiohttp_client, settings, clock, h):
    from handoff_service.app import create_app

    await h.user("alice")
    client = await aiohttp_client(create_app(settings.with_(login_max_failures=3), clock=clock, run_background=False))
    statuses = []
    for i in range(4):  # a new forged address each time does not escape the limit
        statuses += await _wrong_logins_from(client, f"198.51.100.{i}", 1)
    assert statuses == [401, 401, 401, 429]
