"""The HTTP edge: a route table that carries each route's auth, input schemas and
documentation (the OpenAPI document is generated from it), JSON helpers and the
error middleware mapping domain errors to `{"error": {"code", "message"}}`.

Who the caller is (staff sessions and tokens) and what happens to a refused
action (the audit log) are features: they are injected as `Gatekeeper`."""

from __future__ import annotations

import ipaddress
import json
import logging
import math
import re
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import web

from .deps import DEPS, Deps
from .errors import DomainError, Forbidden, NotFound, Unauthenticated, ValidationFailed
from .principal import AGENTS, ANY_STAFF, BOT, SUPERVISORS, Principal
from .validation import parse_json, validate

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_ID = 2**31 - 1

# who may call a route: PUBLIC, BOT (the bot service token) or a set of staff roles
PUBLIC = "public"
SUPERVISOR_ONLY = SUPERVISORS
__all__ = ["AGENTS", "ANY_STAFF", "BOT", "PUBLIC", "SUPERVISOR_ONLY"]

Handler = Callable[..., Awaitable[web.StreamResponse]]
PRINCIPAL = web.RequestKey("principal", Principal)


@dataclass
class Param:
    name: str
    schema: dict[str, Any]
    required: bool = False
    description: str = ""
    not_found_code: str = "not_found"  # for path parameters


def id_param(name: str, description: str, not_found_code: str) -> Param:
    """A path parameter holding a database id."""
    return Param(name, {"type": "integer", "minimum": 1, "maximum": MAX_ID}, True, description, not_found_code)


CASE_ID = id_param("case_id", "Case id", "case_not_found")
LIMIT = Param("limit", {"type": "integer", "minimum": 1, "maximum": 500, "default": 100})
READ_ERRORS = (400, 401, 403, 404)
WRITE_ERRORS = (400, 401, 403, 404, 409, 413, 415)


@dataclass
class RouteSpec:
    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    auth: str | frozenset[str]
    body: str | None = None  # name of a request schema in schemas.build_bodies()
    path_params: list[Param] = field(default_factory=list)
    query: list[Param] = field(default_factory=list)
    status: int = 200
    response: str | None = None  # component schema name
    # other success statuses with the same response schema, e.g. {200: "already existed"}
    also: dict[int, str] = field(default_factory=dict)
    errors: tuple[int, ...] = ()
    websocket: bool = False
    content_type: str = "application/json"  # e.g. text/csv for downloads

    @property
    def operation_id(self) -> str:
        return self.handler.__name__


class RouteTable:
    """Collects RouteSpecs via decorators; `install` registers them on an app."""

    def __init__(self) -> None:
        self.specs: list[RouteSpec] = []

    def route(self, method: str, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        def deco(fn: Handler) -> Handler:
            self.specs.append(RouteSpec(method=method, path=path, handler=fn, **kw))
            return fn

        return deco

    def get(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("POST", path, **kw)

    def patch(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("PATCH", path, **kw)


def install(app: web.Application, specs: list[RouteSpec]) -> None:
    for spec in specs:
        app.router.add_route(spec.method, spec.path, _wrap(spec), name=spec.operation_id)


# ---------------------------------------------------------------- request helpers


def dumps(data: Any) -> bytes:
    """UTF-8 JSON; falls back to \\u escapes if free-form data holds lone surrogates."""
    try:
        return json.dumps(data, ensure_ascii=False, default=str).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(data, ensure_ascii=True, default=str).encode("ascii")


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=dumps(data), status=status, headers=headers, content_type="application/json")


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    err: dict[str, Any] = {"code": code, "message": message}
    if extra:
        err["details"] = extra
    return {"error": err}


def _path_value(request: web.Request, p: Param) -> Any:
    raw = request.match_info.get(p.name, "")
    if p.schema.get("type") == "integer":
        if not re.fullmatch(r"[0-9]{1,10}", raw) or not 1 <= int(raw) <= MAX_ID:
            raise NotFound(f"{p.name.replace('_', ' ')} {raw!r} does not exist", code=p.not_found_code)
        return int(raw)
    pattern = p.schema.get("pattern")
    if pattern and not re.search(pattern, raw):
        raise NotFound(f"{p.name.replace('_', ' ')} {raw!r} does not exist", code=p.not_found_code)
    return raw


def _finite_number(raw: str) -> float | None:
    """A decimal number as Python and JSON write it (1.5, -2, 1e-05); never nan or inf."""
    if len(raw) > 40 or not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?", raw):
        return None
    value = float(raw)
    return value if math.isfinite(value) else None


def _query_values(request: web.Request, params: list[Param]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for p in params:
        raw = request.query.get(p.name)
        if raw is None:
            if p.required:
                raise ValidationFailed(f"query.{p.name}: is required", code="invalid_field")
            out[p.name] = p.schema.get("default")
            continue
        value: Any = raw
        typ = p.schema.get("type")
        if typ == "integer":
            if not re.fullmatch(r"-?[0-9]{1,16}", raw):
                raise ValidationFailed(f"query.{p.name}: must be an integer", code="invalid_field")
            value = int(raw)
        elif typ == "number":
            value = _finite_number(raw)
            if value is None:
                raise ValidationFailed(f"query.{p.name}: must be a number", code="invalid_field")
        elif typ == "boolean":
            if raw not in ("true", "false"):
                raise ValidationFailed(f"query.{p.name}: must be true or false", code="invalid_field")
            value = raw == "true"
        out[p.name] = validate(value, p.schema, f"query.{p.name}")
    return out


async def read_body(request: web.Request, schema: dict[str, Any]) -> Any:
    ctype = request.content_type
    if ctype != "application/json":
        raise DomainError("the body must be JSON (Content-Type: application/json)", code="unsupported_media_type")
    raw = await request.read()  # bounded by client_max_size -> 413
    return validate(parse_json(raw), schema)


# ---------------------------------------------------------------- auth


class Gatekeeper(Protocol):
    """Injected by the app: the staff feature's authentication and the audit log's record of refusals."""

    async def authenticate(self, request: web.Request, deps: Deps) -> Principal | None: ...

    async def denied(self, deps: Deps, p: Principal, action: str, code: str, target: str | None) -> None: ...


def _authorize(spec: RouteSpec, p: Principal | None) -> None:
    if spec.auth == PUBLIC:
        return
    if p is None:
        raise Unauthenticated("authentication required", code="unauthenticated")
    if spec.auth == BOT:
        if p.kind != BOT:
            raise Forbidden("this route is for the bot service token only", code="bot_only")
        return
    if p.kind == BOT:
        raise Forbidden("the bot service token may not call staff routes", code="staff_only")
    assert isinstance(spec.auth, frozenset)
    if p.role not in spec.auth:
        raise Forbidden(f"role {p.role} may not do this; needs {' or '.join(sorted(spec.auth))}", code="wrong_role")


def _wrap(spec: RouteSpec) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        deps = request.app[DEPS]
        gate = request.app[GATEKEEPER]
        p = await gate.authenticate(request, deps) if spec.auth != PUBLIC else None
        kwargs: dict[str, Any] = {}
        try:
            _authorize(spec, p)  # a staff member of the wrong role is refused, and audited, like any refusal
            if p is not None:
                request[PRINCIPAL] = p
            for prm in spec.path_params:
                kwargs[prm.name] = _path_value(request, prm)
            if spec.query:
                kwargs["query"] = _query_values(request, spec.query)
            if spec.body is not None:
                kwargs["body"] = await read_body(request, request.app[BODIES][spec.body])
            return await spec.handler(request, **kwargs)
        except DomainError as e:
            # a refused staff action (403/409), and a refused read (403)
            refused = e.status == 403 or (e.status == 409 and request.method not in SAFE_METHODS)
            if p is not None and p.kind == "staff" and refused:
                await gate.denied(deps, p, spec.operation_id, e.code, request.path)
            raise

    handler.__name__ = spec.operation_id
    handler.__doc__ = spec.summary
    return handler


def principal(request: web.Request) -> Principal:
    return request[PRINCIPAL]


GATEKEEPER = web.AppKey("gatekeeper", Gatekeeper)
BODIES = web.AppKey("bodies", dict[str, dict[str, Any]])
SPECS = web.AppKey("specs", list[RouteSpec])


# ---------------------------------------------------------------- middleware

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except DomainError as e:
        status = 415 if e.code == "unsupported_media_type" else e.status
        headers = {}
        if hasattr(e, "retry_after"):
            headers["Retry-After"] = str(e.retry_after)
        return json_response(error_body(e.code, e.message, **e.extra), status=status, headers=headers)
    except web.HTTPException as e:
        if e.status < 400:
            raise
        code = _HTTP_CODES.get(e.status, "http_error")
        if e.status == 404:
            message = f"no route {request.method} {request.path}"
        elif e.status == 405:
            message = f"method {request.method} is not allowed on {request.path}"
        elif e.status == 413:
            message = "the request body is too large"
        else:
            message = e.reason or "request refused"
        headers = {k: v for k, v in e.headers.items() if k.lower() == "allow"}
        return json_response(error_body(code, message), status=e.status, headers=headers)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json_response(error_body("internal_error", "internal error"), status=500)


def client_address(request: web.Request, trusted_proxies: Collection[str]) -> str | None:
    """The caller's address: the peer's, or, when the peer is one of our reverse proxies, the
    nearest address in X-Forwarded-For that is not a proxy of ours (nginx appends the address it
    saw, so the entries left of it are whatever the client wrote and are not believed)."""
    peer = request.remote
    if peer is None or peer not in trusted_proxies:
        return peer
    for hop in reversed(request.headers.get("X-Forwarded-For", "").split(",")):
        hop = hop.strip()
        if not hop:
            continue
        try:
            address = str(ipaddress.ip_address(hop))
        except ValueError:
            return peer  # a garbled chain: the proxy's own address (limits then count the proxy)
        if address not in trusted_proxies:
            return address
    return peer


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("Cache-Control", "no-store")
