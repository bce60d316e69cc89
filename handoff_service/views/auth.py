"""Console login/logout (session cookie + CSRF token) and who-am-I."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .. import staff
from ..api import (
    ANY_STAFF,
    AGENTS,
    CSRF_COOKIE,
    PRINCIPAL_CACHE,
    PUBLIC,
    SESSION_COOKIE,
    RouteTable,
    json_response,
    principal,
)
from ..context import DEPS

routes = RouteTable()


def _secure(request: web.Request) -> bool:
    mode = request.app[DEPS].settings.cookie_secure
    return request.secure if mode == "auto" else mode == "true"


@routes.post(
    "/api/auth/login", summary="Log in to the console (sets the session and CSRF cookies)", tag="auth",
    auth=PUBLIC, body="LoginRequest", response="Login", errors=(400, 401, 413, 415, 429),
)
async def login(request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
    deps = request.app[DEPS]
    cookie, csrf, user, expires = await staff.login(
        deps, username=body["username"], password=body["password"], ip=request.remote or "?"
    )
    resp = json_response({"user": user, "csrf_token": csrf, "expires_at": expires.isoformat()})
    max_age = int(deps.settings.session_hours * 3600)
    secure = _secure(request)
    resp.set_cookie(SESSION_COOKIE, cookie, max_age=max_age, path="/", httponly=True, samesite="Strict", secure=secure)
    # readable by the console's script, which echoes it in X-CSRF-Token
    resp.set_cookie(CSRF_COOKIE, csrf, max_age=max_age, path="/", httponly=False, samesite="Strict", secure=secure)
    return resp


@routes.post("/api/auth/logout", summary="End the console session", tag="auth", auth=ANY_STAFF, status=204, errors=(401, 403))
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


@routes.get("/api/auth/me", summary="The authenticated staff member", tag="auth", auth=ANY_STAFF, response="User", errors=(401, 403))
async def me(request: web.Request) -> web.StreamResponse:
    p = principal(request)
    return json_response({"id": p.user_id, "username": p.username, "role": p.role, "team": p.team, "via": p.via})


@routes.get("/api/staff", summary="Active staff (transfer targets)", tag="auth", auth=AGENTS, response="UserList", errors=(401, 403))
async def list_staff(request: web.Request) -> web.StreamResponse:
    return json_response({"staff": await staff.list_staff(request.app[DEPS])})
