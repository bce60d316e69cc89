"""HTTP handlers, one module per feature. Handlers stay thin: parse (done by the
route table), call one use case, shape the response."""

from __future__ import annotations

from ..api import RouteSpec
from . import auth, bot, cases, console, meta, ws


def all_specs() -> list[RouteSpec]:
    return [*meta.routes.specs, *auth.routes.specs, *cases.routes.specs, *console.routes.specs, *bot.routes.specs, *ws.routes.specs]
