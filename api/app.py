"""The Litestar application."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from litestar import Litestar, Request, Response, Router
from litestar._openapi.plugin import OpenAPIPlugin  # the app's own plugin, to defer its work
from litestar.datastructures import CacheControlHeader
from litestar.enums import HttpMethod
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, OpenAPI, SecurityScheme
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.routes import HTTPRoute
from litestar.static_files import create_static_files_router
from litestar.types import ExceptionHandlersMap
from prometheus_client import multiprocess
from swagger_ui_bundle import swagger_ui_path

from api import wiring
from api.auth import CredentialCache
from api.background import JobThread, supervise
from api.controllers.admin_bulk import (
    AdminGrantsController,
    AdminImportsController,
    AdminSegmentsController,
    is_upload,
)
from api.controllers.admin_catalog import CatalogAdminController
from api.controllers.admin_controls import AdminControlsController
from api.controllers.admin_exclusions import AdminExclusionsController
from api.controllers.admin_jobs import (
    AdminExplanationsController,
    AdminJobsController,
    AdminReplaysController,
)
from api.controllers.admin_members import AdminMembersController
from api.controllers.admin_merchants import AdminMerchantsController
from api.controllers.admin_offers import AdminOffersController
from api.controllers.admin_program import AdminProgramController
from api.controllers.admin_reports import AdminReportsController
from api.controllers.hooks import HooksController
from api.controllers.me import MeController, ReferralController
from api.controllers.me_catalog import CatalogMemberController
from api.controllers.me_offers import MemberGeofencesController, MemberOffersController
from api.controllers.merchant import MerchantController, MerchantOffersController
from api.controllers.ops import OpsController
from api.controllers.secrets import SecretsController
from api.controllers.settlement import AdminSettlementsController, MerchantStatementsController
from api.deps import DEPENDENCIES
from api.dto import admin, common, hooks, me, merchant, ops
from api.dto import jobs as jobs_dto
from api.headers import NoFraming
from api.limits import BodyDeadline
from api.logs import AccessLog, configure_logging
from api.openapi import document_problems, wire_schemas
from api.problems import EXCEPTION_HANDLERS
from api.process import die_with_parent
from api.request import AllowHeader, RefuseUnstorableUrl, StrictRequest
from api.settings import Settings
from api.web.console import ConsoleController
from api.web.console_admin import ConsoleAdminController
from api.web.console_controls import ConsoleControlsController
from api.web.console_jobs import ConsoleJobsController
from api.web.console_members import ConsoleMembersController
from api.web.console_replays import ConsoleReplaysController
from api.web.console_reports import ConsoleReportsController
from api.web.console_rules import ConsoleRulesController
from api.web.console_settlement import ConsoleSettlementController
from api.web.pages import STATIC_DIR, STATIC_PATH, area_at, missing_page
from api.web.portal import PortalController
from api.web.portal_offers import PortalOffersController
from api.web.portal_statements import PortalStatementsController
from db.embedded import EmbeddedPostgres
from db.migrate import migrate
from db.pool import CONNECTION_LOST, acquire, connect, create_pool, ensure_database
from db.replica import Reads
from offers.nearby.service import Indexes
from rewards.events import delivery
from rewards.hook import gathering
from rewards.housekeeping import service as housekeeping

_log = logging.getLogger("rewards.api")

API_DESCRIPTION = """\
Rewards, points and merchant-offers engine for card programs.

Errors are RFC 9457 `application/problem+json`. Validation errors are `422` with
`errors: [{field, message}]`; malformed JSON is `400`; request bodies are limited to
1 MiB (64 KiB for a single hook transaction) and larger ones are `413`. Unknown fields in a
request body are refused (`422`). Lists take `limit` (default 50, max 500) and an opaque
keyset `cursor`, and answer `{items, next_cursor}`.
"""


DOCS_ASSETS = "/schema/assets"


def _docs_assets() -> Router:
    """Swagger UI's scripts, styles and icons, from the installed package."""
    return create_static_files_router(
        path=DOCS_ASSETS,
        directories=[Path(str(swagger_ui_path))],
        include_in_schema=False,
        send_as_attachment=False,
        name="docs-assets",
    )


def _web_assets() -> Router:
    """The portal's and the console's stylesheet."""
    return create_static_files_router(
        path=STATIC_PATH,
        directories=[STATIC_DIR],
        include_in_schema=False,
        send_as_attachment=False,
        name="web-assets",
        cache_control=CacheControlHeader(max_age=3600),
    )


def _openapi() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Rewards engine",
        version="1.0.0",
        description=API_DESCRIPTION,
        path="/schema",
        render_plugins=[
            JsonRenderPlugin(),
            # Swagger UI's files come from the swagger-ui-bundle-v2 package and are served
            # by this process: the product runs on bank intranets with no CDN in reach.
            SwaggerRenderPlugin(
                js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
                css_url=f"{DOCS_ASSETS}/swagger-ui.css",
                standalone_preset_js_url=f"{DOCS_ASSETS}/swagger-ui-standalone-preset.js",
                favicon=f"<link rel='icon' href='{DOCS_ASSETS}/favicon-32x32.png'>",
            ),
        ],
        components=Components(
            security_schemes={
                "AdminKey": SecurityScheme(
                    type="http",
                    scheme="bearer",
                    description="Operator API key of one tenant, shown once at creation.",
                ),
                "MerchantKey": SecurityScheme(
                    type="http",
                    scheme="bearer",
                    description="API key of one merchant, shown once at creation.",
                ),
                "MemberToken": SecurityScheme(
                    type="http",
                    scheme="bearer",
                    bearer_format="JWT",
                    description="HS256 JWT signed with the tenant's member-token secret; "
                    "claims sub (member id), tid (tenant id), exp. Optional X-Device-Id.",
                ),
                "HookSignature": SecurityScheme(
                    type="apiKey",
                    name="X-Rewards-Signature",
                    security_scheme_in="header",
                    description='t=<unix seconds>,v1=<hex HMAC-SHA256(hook secret, "<t>.<raw '
                    'body>")>; refused when t is more than 300 s from server time.',
                ),
                "HookTenant": SecurityScheme(
                    type="apiKey",
                    name="X-Rewards-Tenant",
                    security_scheme_in="header",
                    description="The tenant id whose hook secret signed the request.",
                ),
            }
        ),
    )


async def _expire_periodically(
    pool: asyncpg.Pool, interval: float, event_retention: timedelta
) -> None:
    """The in-process expiry job: every ``interval`` seconds, in whichever worker gets the
    advisory lock first."""
    while True:
        await asyncio.sleep(interval)
        try:
            async with acquire(pool) as conn:
                done = await housekeeping.run(
                    conn, datetime.now(UTC), event_retention, also=wiring.UPKEEP
                )
            if done:
                _log.info("expired points", extra={"fields": {"expired": done}})
        except (OSError, asyncpg.PostgresError):
            _log.exception("the expiry job failed; it runs again in %s s", interval)


def delivery_settings(settings: Settings) -> delivery.Settings:
    """The delivery loop's settings, from the service's."""
    return delivery.Settings(
        allow_private=settings.webhook_allow_private,
        retry_base_seconds=settings.webhook_retry_base_seconds,
        timeout_seconds=settings.webhook_timeout_seconds,
        deadline_seconds=settings.webhook_deadline_seconds,
        lease_seconds=settings.webhook_lease_seconds,
    )


async def _start_on(dsn: str, settings: Settings) -> asyncpg.Pool:
    """Migrate and open the pool. A worker that starts while the database is away (a
    restart, a failover) waits for it, up to ``startup_wait_seconds``, instead of failing:
    a server whose workers fail to start stops altogether."""
    deadline = time.monotonic() + settings.startup_wait_seconds
    pause = 0.25
    while True:
        try:
            conn = await connect(dsn, timeout=10)
            try:
                await migrate(conn)
            finally:
                await conn.close()
            return await create_pool(
                dsn, min_size=settings.pool_min_size, max_size=settings.pool_max_size
            )
        except CONNECTION_LOST as exc:
            if time.monotonic() + pause > deadline:
                raise
            _log.warning(
                "the database is not reachable (%s); trying again in %.1f s",
                type(exc).__name__,
                pause,
            )
            await asyncio.sleep(pause)
            pause = min(pause * 2, 2.0)


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the application. With no database URL in the settings an embedded
    PostgreSQL is started under ``settings.data_dir``."""
    settings = settings or Settings()
    wiring.wire()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncGenerator[None, None]:
        embedded = None
        dsn = settings.database_url
        if dsn is None:
            embedded = EmbeddedPostgres(settings.data_dir)
            await ensure_database(embedded.dsn("postgres"), "rewards")
            dsn = embedded.dsn()
        pool = await _start_on(dsn, settings)
        app.state.pool = pool
        app.state.credentials = CredentialCache(pool, settings.credential_cache_seconds)
        app.state.reads = Reads(
            pool,
            settings.database_replica_url,
            wait_seconds=settings.replica_wait_ms / 1000,
            pool_max_size=settings.pool_max_size,
        )
        app.state.offer_indexes = Indexes()
        app.state.hooks = gathering.Gatherer(
            pool,
            gathering.Settings(
                window=settings.hook_gather_window_ms / 1000,
                max_items=settings.hook_gather_max,
                parallel=settings.hook_gather_parallel,
            ),
        )
        expiry = (
            asyncio.create_task(
                supervise(
                    "expiry",
                    lambda: _expire_periodically(
                        pool,
                        settings.expiry_interval_seconds,
                        timedelta(days=settings.event_retention_days),
                    ),
                )
            )
            if settings.expiry_interval_seconds > 0
            else None
        )
        deliveries = (
            asyncio.create_task(
                supervise(
                    "delivery",
                    lambda: delivery.Deliverer(pool, delivery_settings(settings)).run(),
                )
            )
            if settings.deliver_events
            else None
        )
        job_thread = (
            JobThread(
                dsn,
                wiring.jobs(settings),
                lease_seconds=settings.job_lease_seconds,
                poll_seconds=settings.job_poll_seconds,
            )
            if settings.run_jobs
            else None
        )
        if job_thread is not None:
            job_thread.start()
        try:
            yield
        finally:
            if job_thread is not None:
                await asyncio.to_thread(job_thread.stop)
            await app.state.hooks.close()
            await app.state.reads.close()
            for task in (expiry, deliveries):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            await pool.close()
            if embedded is not None:
                embedded.stop()
            if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
                # This worker's live gauges no longer count; its counters still do.
                multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]

    app = Litestar(
        route_handlers=[
            _docs_assets(),
            _web_assets(),
            PortalController,
            PortalOffersController,
            PortalStatementsController,
            ConsoleController,
            ConsoleReportsController,
            ConsoleReplaysController,
            ConsoleJobsController,
            ConsoleRulesController,
            ConsoleMembersController,
            ConsoleAdminController,
            ConsoleControlsController,
            ConsoleSettlementController,
            OpsController,
            PrometheusController,
            AdminMerchantsController,
            AdminSettlementsController,
            MerchantStatementsController,
            AdminMembersController,
            AdminProgramController,
            AdminJobsController,
            AdminReplaysController,
            AdminImportsController,
            AdminSegmentsController,
            AdminGrantsController,
            AdminExclusionsController,
            AdminControlsController,
            AdminExplanationsController,
            AdminReportsController,
            SecretsController,
            CatalogAdminController,
            CatalogMemberController,
            MerchantController,
            MerchantOffersController,
            AdminOffersController,
            MemberOffersController,
            MemberGeofencesController,
            MeController,
            ReferralController,
            HooksController,
        ],
        dependencies=DEPENDENCIES,
        exception_handlers=_APP_EXCEPTION_HANDLERS,
        request_class=StrictRequest,
        request_max_body_size=settings.max_body_bytes,
        middleware=[
            PrometheusConfig(app_name="rewards", prefix="rewards", group_path=True).middleware,
        ],
        openapi_config=_openapi(),
        lifespan=[lifespan],
        logging_config=None,
        debug=False,
    )
    app.state.settings = settings
    # Outermost, around the router itself, so that unmatched routes (404, 405) get a request
    # id and a log line too.
    routes = [
        (route.path, {HttpMethod(method).value for method in route.methods})
        for route in app.routes
        if isinstance(route, HTTPRoute)
    ]
    app.asgi_handler = AccessLog(
        NoFraming(
            RefuseUnstorableUrl(
                AllowHeader(
                    BodyDeadline(
                        app.asgi_handler, settings.body_timeout_seconds, streamed=is_upload
                    ),
                    routes,
                )
            )
        ),
        enabled=settings.access_log,
    )
    _document_on_first_use(app)
    return app


class _DocumentedOpenAPI(OpenAPIPlugin):
    """The app's OpenAPI plugin, which adds this service's problem responses and exact body
    schemas to the document it builds."""

    __slots__ = ()

    def _build_openapi(self) -> OpenAPI:
        wire = wire_schemas([common, admin, hooks, jobs_dto, me, merchant, ops])
        return document_problems(super()._build_openapi(), wire)


def _document_on_first_use(app: Litestar) -> None:
    """Build the OpenAPI document when it is first asked for, not with every app: building
    it takes as long as the rest of the app's construction, and most processes never serve
    it. Litestar builds it lazily by itself; the problems are added by the same build."""
    plugin = app.plugins.get(OpenAPIPlugin)
    plugin.__class__ = _DocumentedOpenAPI


def _on_http_anywhere(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """An HTTP error no route handled: under /portal/ and /console/ (a page that does not
    exist) the pages' HTML with their headers, anywhere else the API's problem+json."""
    area = area_at(request.url.path)
    if area is not None and isinstance(exc, HTTPException) and exc.status_code in (404, 405):
        return missing_page(request, area, exc.status_code)
    return EXCEPTION_HANDLERS[HTTPException](request, exc)


_APP_EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    **EXCEPTION_HANDLERS,
    HTTPException: _on_http_anywhere,
}


def create_app_from_env() -> Litestar:
    """Factory for ASGI servers (``uvicorn --factory api.app:create_app_from_env``). It runs
    in each worker, which ends with the server process that started it."""
    die_with_parent()
    settings = Settings()
    configure_logging(settings.log_level)
    return create_app(settings)
