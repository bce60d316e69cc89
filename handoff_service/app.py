"""The application factory. Engines, HTTP clients and background tasks are built
in cleanup_ctx (never at import time) and injected through typed AppKeys."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import AsyncIterator

import aiohttp
from aiohttp import web

from .api import BODIES, PRINCIPAL_CACHE, SPECS, error_middleware, install, security_headers
from .clock import Clock, SystemClock
from .config import Settings
from .context import DEPS, SETTINGS, Deps
from .db import build_engine, readonly
from .delivery import DeliveryWorker
from .events import EventHub
from .schemas import build_bodies
from .security import LoginRateLimiter, Passwords
from .pages import install_pages, static_cache
from .phrasing import StyleGuide
from .sla import SLAConfig, load_sla
from .sla_monitor import SLAMonitor
from .staff import PrincipalCache
from .views import all_specs

log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    sla: SLAConfig | None = None,
    run_sla_monitor: bool = True,
) -> web.Application:
    settings = settings or Settings.from_env()
    sla = sla or load_sla(settings.sla_file)  # invalid tiers: fail before serving
    clock = clock or SystemClock()

    app = web.Application(client_max_size=settings.max_body_bytes, middlewares=[error_middleware, static_cache])
    app[SETTINGS] = settings
    specs = all_specs()
    app[SPECS] = specs
    app[BODIES] = build_bodies(sla.names)
    app[PRINCIPAL_CACHE] = PrincipalCache(settings.auth_cache_seconds)
    install(app, specs)
    install_pages(app)
    app.on_response_prepare.append(security_headers)

    async def resources(app: web.Application) -> AsyncIterator[None]:
        engine = build_engine(settings.database_url, pool_size=settings.db_pool_size)
        http = aiohttp.ClientSession()
        hub = EventHub()
        deps = Deps(
            settings=settings,
            engine=engine,
            read_engine=readonly(engine),
            clock=clock,
            sla=sla,
            hub=hub,
            passwords=Passwords(settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism),
            limiter=LoginRateLimiter(settings.login_max_failures, settings.login_window_seconds),
            write_lock=asyncio.Lock() if settings.is_sqlite else None,
            http=http,
            style_guide=StyleGuide(settings.style_guide_file),
        )
        worker = DeliveryWorker(deps, http)
        deps.delivery = worker
        deps.on_delivery = worker.kick
        deps.sla_monitor = SLAMonitor(deps)
        app[DEPS] = deps
        await worker.recover()
        monitor_task = None
        if run_sla_monitor and settings.sla_interval_seconds > 0:
            monitor_task = asyncio.get_running_loop().create_task(deps.sla_monitor.run_forever())
        try:
            yield
        finally:
            if monitor_task is not None:
                monitor_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await monitor_task
            await worker.close()
            await http.close()
            await engine.dispose()

    async def close_websockets(app: web.Application) -> None:
        if DEPS in app:
            await app[DEPS].hub.close_all()

    app.cleanup_ctx.append(resources)
    app.on_shutdown.append(close_websockets)
    return app
