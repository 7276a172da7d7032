"""The FastAPI application: :func:`create_app` wires configuration, database (migrated at
start), device CA, token service, change-signing key and metrics, then the routers. The
OpenAPI description is at /openapi.json; no /docs page (it loaded scripts from a CDN)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from kiosk import __version__
from server import health
from server.api import (
    account_routes,
    audit_routes,
    change_routes,
    equity_routes,
    kiosk_routes,
    lane_routes,
    login_routes,
    people_routes,
    photo_routes,
    referral_routes,
    report_routes,
)
from server.api.schemas import error_responses
from server.config import ServerConfig
from server.database import ServerDatabase, open_server_database
from server.metrics import ServerMetrics
from server.middleware import (
    AuthenticateFirst,
    BodyLimit,
    LoginShed,
    NoStore,
    RequestMetrics,
    ServedPaths,
)
from server.photo_purge import photo_purge_loop
from server.photos import PhotoVault, load_or_create_photo_key
from server.pubsub_postgres import pubsub_for
from server.referral_lapses import lapse_loop
from server.retention import RetentionPurger
from server.security.ca import DeviceCA
from server.security.change_signing import ChangeSigner
from server.security.login_gate import LoginGate
from server.security.login_throttle import AddressPolicy, ThrottlePolicy
from server.security.metrics_access import require_metrics_access
from server.security.tokens import TokenService, load_or_create_secret
from server.state import ServerState, server_state
from server.vetting import routes as vetting_routes

log = logging.getLogger(__name__)

# Endpoints that need no device certificate: liveness, the API description, log in, and
# /metrics (open to ServerConfig.metrics_allow, a technician's token for everyone else).
PUBLIC_PATHS = frozenset({"/healthz", "/metrics", "/openapi.json", "/v1/auth/token"})


def build_state(config: ServerConfig, database: ServerDatabase | None = None) -> ServerState:
    """Open (and migrate) the database, the CA and the token secret."""
    config.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    ca = DeviceCA.open_or_create(config.ca_dir)
    if config.token_secret is not None:
        secret = config.token_secret.get_secret_value().encode("utf-8")
    else:
        secret = load_or_create_secret(config.data_dir / "token.secret")
    signer = ChangeSigner.open(config.change_signing_key_file)
    list_signer = ChangeSigner.open(config.list_signing_key_file)
    db = database or open_server_database(config)
    photos = PhotoVault(load_or_create_photo_key(config.data_dir / "photos.key"))
    metrics = ServerMetrics()
    return ServerState(
        photos=photos,
        pubsub=pubsub_for(db, metrics.control_room_received),
        config=config,
        database=db,
        ca=ca,
        tokens=TokenService(secret, config.token_lifetime_s),
        metrics=metrics,
        signer=signer,
        list_signer=list_signer,
        login_gate=LoginGate(
            config.login_concurrency,
            config.login_queue,
            rate_per_s=config.login_rate_per_s,
            burst=config.login_burst,
        ),
        throttle=ThrottlePolicy.from_config(config),
        address_budget=AddressPolicy.from_config(config),
    )


def create_app(config: ServerConfig, *, state: ServerState | None = None) -> FastAPI:
    """The server application; the database is migrated here, before the first request."""
    server = state or build_state(config)
    owns_database = state is None

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # this event loop's pool of worker threads (anyio's default is 40)
        anyio.to_thread.current_default_thread_limiter().total_tokens = config.worker_threads
        drop_folder = vetting_routes.start_background(_app)
        server.pubsub.start()  # LISTEN (PostgreSQL) before the first wall or kiosk subscribes
        purger = RetentionPurger(server.database, config).start()
        purge = asyncio.create_task(photo_purge_loop(server))
        lapses = asyncio.create_task(lapse_loop(server))
        try:
            yield
        finally:
            purge.cancel()
            lapses.cancel()
            server.pubsub.close()
            await purger.stop()
            if drop_folder is not None:
                drop_folder.stop()
            if owns_database:
                server.close()

    app = FastAPI(
        title="Kiosk central server",
        version=__version__,
        description="Store-and-forward sync of e-gate kiosks; officer booths; technicians.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.server = server
    for router in (
        kiosk_routes.router,
        login_routes.auth,
        referral_routes.router,
        people_routes.supervisor,
        people_routes.technician,
        people_routes.admin,
        audit_routes.router,
        lane_routes.kiosk,
        lane_routes.people,
        photo_routes.router,
        report_routes.router,
        change_routes.router,
        change_routes.alerts,
        account_routes.router,
        equity_routes.router,
    ):
        app.include_router(router)
    vetting_routes.install(app, server)
    _add_operational_routes(app)
    _add_error_handlers(app)
    app.add_middleware(
        BodyLimit, max_bytes=config.max_body_bytes, read_timeout_s=config.read_timeout_s
    )
    app.add_middleware(
        AuthenticateFirst, verify_token=server.tokens.verify, public_paths=PUBLIC_PATHS
    )
    app.add_middleware(NoStore)
    app.add_middleware(
        LoginShed,
        gate=server.login_gate,
        on_shed=lambda address: login_routes.refused_busy(server, address),
        blocked=lambda scope: login_routes.blocked_address(server, scope),
        delay_s=config.login_shed_delay_s,
    )
    if config.serves != "all":
        app.add_middleware(ServedPaths, serves=config.serves)
    app.add_middleware(RequestMetrics, metrics=server.metrics)
    return app


def _add_operational_routes(app: FastAPI) -> None:
    @app.get("/healthz", tags=["operations"], summary="liveness and database check")
    async def healthz(state: ServerState = Depends(server_state)) -> dict[str, str]:
        """Answers within ``health_timeout_s`` whatever the database does."""
        reachable = await health.database_reachable(state.database, state.config.health_timeout_s)
        if not reachable:
            return {"status": "degraded", "database": "unreachable"}
        return {"status": "ok", "database": state.database.dialect}

    @app.get(
        "/metrics",
        tags=["operations"],
        summary="Prometheus metrics",
        response_class=PlainTextResponse,
        responses=error_responses(401, 403),
    )
    def metrics(
        state: ServerState = Depends(server_state), _access: None = Depends(require_metrics_access)
    ) -> PlainTextResponse:
        """Open to clients in ``metrics_allow`` (loopback by default); others need the
        token of a technician or an administrator."""
        return PlainTextResponse(
            generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST
        )


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        """Field errors without the offending input: it may be personal data, or a value
        (NaN) that JSON cannot even carry back."""
        errors = [
            {
                "loc": [str(part) if not isinstance(part, int) else part for part in e["loc"]],
                "msg": str(e.get("msg", "invalid")),
                "type": str(e.get("type", "value_error")),
            }
            for e in exc.errors()[:50]
        ]
        return JSONResponse({"detail": errors}, status_code=422)

    async def database_unavailable(_request: Request, exc: Any) -> JSONResponse:
        log.error("database unavailable: %s", exc.__class__.__name__)
        return JSONResponse(
            {"detail": "database unavailable, retry later"},
            status_code=503,
            headers={"Retry-After": "2"},
        )

    # a dropped or stalled database (OperationalError: connect or statement timeout) and a
    # full pool (TimeoutError) are 503 with no traceback; the kiosk's relay retries later
    for error in (OperationalError, PoolTimeoutError, InterfaceError):
        app.add_exception_handler(error, database_unavailable)
