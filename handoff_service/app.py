"""The application factory: the one place where features are wired together.

Engines, HTTP clients and background tasks are built in cleanup_ctx (never at
import time) and injected through typed AppKeys; listeners are subscribed to the
event bus here, routes of every feature are installed here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from handoff_service import openapi
from handoff_service.audit import service as audit
from handoff_service.audit import views as audit_views
from handoff_service.board import views as board_views
from handoff_service.botapi import views as botapi_views
from handoff_service.cases import views as cases_views
from handoff_service.cases.scheduled import SLAMonitor
from handoff_service.chat import views as chat_views
from handoff_service.console import views as console_views
from handoff_service.console.phrasing import STYLE_GUIDE, StyleGuide
from handoff_service.core import loops
from handoff_service.core.bus import EventBus
from handoff_service.core.clock import Clock, SystemClock
from handoff_service.core.config import Settings
from handoff_service.core.db import build_engine, readonly
from handoff_service.core.deps import DEPS, SETTINGS, Deps, UserNames
from handoff_service.core.http import (
    BODIES,
    GATEKEEPER,
    SPECS,
    RouteSpec,
    error_middleware,
    install,
    security_headers,
)
from handoff_service.core.hub import EventHub
from handoff_service.core.pages import install_static, install_static_types, static_cache
from handoff_service.core.principal import Principal
from handoff_service.core.security import LoginRateLimiter, Passwords
from handoff_service.core.tiers import SLAConfig, load_sla
from handoff_service.delivery import listeners as delivery_listeners
from handoff_service.delivery.scheduled import DeliveryWorker
from handoff_service.followups import listeners as follow_up_listeners
from handoff_service.followups import views as follow_up_views
from handoff_service.followups.scheduled import VisitScheduler
from handoff_service.live import listeners as live_listeners
from handoff_service.live import views as live_views
from handoff_service.live.scheduled import CredentialWatch
from handoff_service.messages import views as messages_views
from handoff_service.metrics import listeners as metrics_listeners
from handoff_service.metrics import views as metrics_views
from handoff_service.metrics.scheduled import BlockPacker
from handoff_service.outages import views as outages_views
from handoff_service.rasa.client import RASA, RasaClient
from handoff_service.review import views as review_views
from handoff_service.review.scheduled import ReviewFeed
from handoff_service.schemas import build_bodies
from handoff_service.sla import views as sla_views
from handoff_service.staff import service as staff
from handoff_service.staff import views as staff_views
from handoff_service.staffing import views as staffing_views

log = logging.getLogger(__name__)


@dataclass
class Services(Deps):
    """Deps plus the running background workers (tests and operators reach them here)."""

    delivery: DeliveryWorker | None = None
    sla_monitor: SLAMonitor | None = None
    review_feed: ReviewFeed | None = None
    visits: VisitScheduler | None = None


class _Gatekeeper:
    """Authentication is the staff feature's; a refused staff action goes to the audit log."""

    async def authenticate(self, request: web.Request, deps: Deps) -> Principal | None:
        return await staff_views.authenticate(request, deps)

    async def denied(self, deps: Deps, p: Principal, action: str, code: str, target: str | None) -> None:
        await audit.record_denied(deps, p, action, code, target)


def all_specs() -> list[RouteSpec]:
    tables = (
        openapi.routes,
        sla_views.routes,
        staff_views.routes,
        cases_views.routes,
        messages_views.routes,
        audit_views.routes,
        review_views.routes,
        follow_up_views.routes,
        outages_views.routes,
        board_views.routes,
        staffing_views.routes,
        metrics_views.routes,
        console_views.routes,
        botapi_views.routes,
        live_views.routes,
    )
    return [spec for table in tables for spec in table.specs]


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    sla: SLAConfig | None = None,
    run_background: bool = True,  # the SLA monitor, the review feed and the follow-up scheduler
) -> web.Application:
    settings = settings or Settings.from_env()
    sla = sla or load_sla(settings.sla_file)  # invalid tiers: fail before serving
    clock = clock or SystemClock()

    app = web.Application(client_max_size=settings.max_body_bytes, middlewares=[error_middleware, static_cache])
    app[SETTINGS] = settings
    specs = all_specs()
    app[SPECS] = specs
    app[BODIES] = build_bodies(sla.names)
    app[GATEKEEPER] = _Gatekeeper()
    app[staff_views.PRINCIPAL_CACHE] = staff.PrincipalCache(settings.auth_cache_seconds)
    app[STYLE_GUIDE] = StyleGuide(settings.style_guide_file)
    install(app, specs)
    console_views.install_pages(app)
    install_static(app)
    app.on_response_prepare.append(security_headers)

    async def resources(app: web.Application) -> AsyncIterator[None]:
        engine = build_engine(settings.database_url, pool_size=settings.db_pool_size)
        http = aiohttp.ClientSession()
        deps = Services(
            settings=settings,
            engine=engine,
            read_engine=readonly(engine),
            clock=clock,
            sla=sla,
            hub=EventHub(),
            bus=EventBus(),
            users=UserNames(staff.load_user_names),
            passwords=Passwords(
                settings.argon2_time_cost,
                settings.argon2_memory_kib,
                settings.argon2_parallelism,
                settings.argon2_concurrency,
            ),
            limiter=LoginRateLimiter(
                settings.login_max_failures,
                settings.login_window_seconds,
                max_per_user=settings.login_max_failures_per_user,
                max_per_ip=settings.login_max_failures_per_ip,
            ),
            write_lock=asyncio.Lock() if settings.is_sqlite else None,
        )
        rasa = RasaClient(settings, http)
        app[RASA] = rasa
        worker = DeliveryWorker(deps, rasa)
        deps.delivery = worker
        deps.sla_monitor = SLAMonitor(deps)
        deps.review_feed = ReviewFeed(deps, rasa)
        deps.visits = VisitScheduler(deps, rasa)
        live_listeners.register(deps)
        delivery_listeners.register(deps.bus, worker)
        follow_up_listeners.register(deps.bus, deps.visits)
        metrics_listeners.register(deps)
        app[DEPS] = deps
        await worker.recover()
        loop = asyncio.get_running_loop()
        tasks = [loop.create_task(CredentialWatch(deps).run_forever())]
        if run_background and settings.sla_interval_seconds > 0:
            tasks.append(loop.create_task(deps.sla_monitor.run_forever()))
        if run_background and settings.review_poll_seconds > 0:
            tasks.append(loop.create_task(deps.review_feed.run_forever()))
        if run_background and settings.follow_up_interval_seconds > 0:
            tasks.append(loop.create_task(deps.visits.run_forever()))
        if run_background and settings.metrics_pack_seconds > 0:
            tasks.append(loop.create_task(BlockPacker(deps).run_forever()))
        try:
            yield
        finally:
            await loops.stop_tasks(tasks)
            await worker.close()
            await http.close()
            await engine.dispose()

    async def close_websockets(app: web.Application) -> None:
        if DEPS in app:
            await app[DEPS].hub.close_all()

    app.cleanup_ctx.append(resources)
    app.on_shutdown.append(close_websockets)
    return app


def create_chat_app(settings: Settings | None = None) -> web.Application:
    """The customer chat page's own application (served on HANDOFF_CHAT_PORT): /chat and its files."""
    app = web.Application(client_max_size=1024, middlewares=[error_middleware, static_cache])
    app[SETTINGS] = settings or Settings.from_env()
    chat_views.install_pages(app)
    install_static_types()
    app.on_response_prepare.append(security_headers)
    return app
