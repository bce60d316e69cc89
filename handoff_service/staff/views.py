"""Who is calling (bearer tokens, console session cookies with their CSRF token),
console login/logout, who-am-I and the staff list."""

from __future__ import annotations

import dataclasses
from typing import Any

from aiohttp import web

from handoff_service.core.deps import DEPS, Deps
from handoff_service.core.errors import Forbidden, Unauthenticated
from handoff_service.core.http import (
    AGENTS,
    ANY_STAFF,
    PUBLIC,
    SAFE_METHODS,
    RouteTable,
    client_address,
    json_response,
    principal,
)
from handoff_service.core.principal import Principal
from handoff_service.core.security import same

from . import service as staff

SESSION_COOKIE = "handoff_session"
CSRF_COOKIE = "handoff_csrf"
CSRF_HEADER = "X-CSRF-Token"
PRINCIPAL_CACHE = web.AppKey("principal_cache", staff.PrincipalCache)

routes = RouteTable()


async def authenticate(request: web.Request, deps: Deps) -> Principal | None:
    """The caller of a request (None: nobody); refuses a session's unsafe request without its CSRF token."""
    cache = request.app[PRINCIPAL_CACHE]
    authz = request.headers.get("Authorization")
    if authz is not None:
        scheme, _, token = authz.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("the Authorization header must be 'Bearer <token>'", code="invalid_token")
        token = token.strip()
        key = "t:" + token
        p = cache.get(key)
        if p is None:
            p = await staff.principal_from_token(deps, token)
            if p is None:
                raise Unauthenticated("the bearer token is unknown, revoked or expired", code="invalid_token")
            cache.put(key, p)
        return dataclasses.replace(p, ip=client_address(request, deps.settings.trusted_proxies))
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        key = "s:" + cookie
        p = cache.get(key)
        if p is None:
            p = await staff.principal_from_session(deps, cookie)
            if p is None:
                return None
            cache.put(key, p)
        if p.via == "session" and request.method not in SAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER, "")
            if not sent or not p.csrf_token or not same(sent, p.csrf_token):
                raise Forbidden(f"missing or wrong {CSRF_HEADER} header", code="csrf_failed")
        return dataclasses.replace(p, ip=client_address(request, deps.settings.trusted_proxies))
    return None


def _secure(request: web.Request) -> bool:
    mode = request.app[DEPS].settings.cookie_secure
    return request.secure if mode == "auto" else mode == "true"


@routes.post(
    "/api/auth/login",
    summary="Log in to the console (sets the session and CSRF cookies)",
    tag="auth",
    auth=PUBLIC,
    body="LoginRequest",
    response="Login",
    errors=(400, 401, 413, 415, 429),
)
async def login(request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
    deps = request.app[DEPS]
    cookie, csrf, user, expires = await staff.login(
        deps,
        username=body["username"],
        password=body["password"],
        ip=client_address(request, deps.settings.trusted_proxies) or "?",
    )
    resp = json_response({"user": user, "csrf_token": csrf, "expires_at": expires.isoformat()})
    max_age = int(deps.settings.session_hours * 3600)
    secure = _secure(request)
    resp.set_cookie(SESSION_COOKIE, cookie, max_age=max_age, path="/", httponly=True, samesite="Strict", secure=secure)
    # readable by the console's script, which echoes it in X-CSRF-Token
    resp.set_cookie(CSRF_COOKIE, csrf, max_age=max_age, path="/", httponly=False, samesite="Strict", secure=secure)
    return resp


@routes.post(
    "/api/auth/logout", summary="End the console session", tag="auth", auth=ANY_STAFF, status=204, errors=(401, 403)
)
async def logout(request: web.Request) -> web.StreamResponse:
    p = principal(request)
    await staff.logout(request.app[DEPS], p)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        request.app[PRINCIPAL_CACHE].drop("s:" + cookie)
    resp = web.Response(status=204)
    resp.del_cookie(SESSION_COOKIE, path="/")
    resp.del_cookie(CSRF_COOKIE, path="/")
    return resp


@routes.get(
    "/api/auth/me",
    summary="The authenticated staff member",
    tag="auth",
    auth=ANY_STAFF,
    response="User",
    errors=(401, 403),
)
async def me(request: web.Request) -> web.StreamResponse:
    p = principal(request)
    return json_response({"id": p.user_id, "username": p.username, "role": p.role, "team": p.team, "via": p.via})


@routes.get(
    "/api/staff",
    summary="Active staff (transfer targets)",
    tag="auth",
    auth=AGENTS,
    response="UserList",
    errors=(401, 403),
)
async def list_staff(request: web.Request) -> web.StreamResponse:
    return json_response({"staff": await staff.list_staff(request.app[DEPS])})
