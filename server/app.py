"""The FastAPI application: :func:`create_app` wires configuration, database (migrated at
start), device CA, token service and metrics, then the routers. OpenAPI at /docs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from kiosk import __version__
from server.api import (
    audit_routes,
    kiosk_routes,
    lane_routes,
    people_routes,
    photo_routes,
    referral_routes,
    report_routes,
)
from server.api.schemas import error_responses
from server.config import ServerConfig
from server.database import ServerDatabase, open_server_database
from server.metrics import ServerMetrics
from server.middleware import BodyLimit, RequestMetrics
from server.photo_purge import photo_purge_loop
from server.photos import PhotoVault, load_or_create_photo_key
from server.security.ca import DeviceCA
from server.security.login_limit import LoginLimiter
from server.security.metrics_access import require_metrics_access
from server.security.tokens import TokenService, load_or_create_secret
from server.state import ServerState, server_state
from server.vetting import routes as vetting_routes

log = logging.getLogger(__name__)

# Endpoints that need no device certificate: liveness, the API description, log in, and
# /metrics (open to ServerConfig.metrics_allow, a technician's token for everyone else).
PUBLIC_PATHS = frozenset(
    {
        "/healthz",
        "/metrics",
        "/docs",
        "/docs/oauth2-redirect",
        "/redoc",
        "/openapi.json",
        "/v1/auth/token",
    }
)


def build_state(config: ServerConfig, database: ServerDatabase | None = None) -> ServerState:
    """Open (and migrate) the database, the CA and the token secret."""
    config.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    ca = DeviceCA.open_or_create(config.ca_dir)
    if config.token_secret is not None:
        secret = config.token_secret.get_secret_value().encode("utf-8")
    else:
        secret = load_or_create_secret(config.data_dir / "token.secret")
    db = database or open_server_database(config)
    photos = PhotoVault(load_or_create_photo_key(config.data_dir / "photos.key"))
    return ServerState(
        photos=photos,
        config=config,
        database=db,
        ca=ca,
        tokens=TokenService(secret, config.token_lifetime_s),
        metrics=ServerMetrics(),
        login_limiter=LoginLimiter(config.login_max_failures, config.login_window_s),
    )


def create_app(config: ServerConfig, *, state: ServerState | None = None) -> FastAPI:
    """The server application; the database is migrated here, before the first request."""
    server = state or build_state(config)
    owns_database = state is None

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        drop_folder = vetting_routes.start_background(_app)
        purge = asyncio.create_task(photo_purge_loop(server))
        yield
        purge.cancel()
        server.pubsub.close()
        if drop_folder is not None:
            drop_folder.stop()
        if owns_database:
            server.database.close()

    app = FastAPI(
        title="Kiosk central server",
        version=__version__,
        description="Store-and-forward sync of e-gate kiosks; officer booths; technicians.",
        lifespan=lifespan,
    )
    app.state.server = server
    for router in (
        kiosk_routes.router,
        people_routes.auth,
        referral_routes.router,
        people_routes.supervisor,
        people_routes.technician,
        people_routes.admin,
        audit_routes.router,
        lane_routes.kiosk,
        lane_routes.people,
        photo_routes.router,
        report_routes.router,
    ):
        app.include_router(router)
    vetting_routes.install(app, server)
    _add_operational_routes(app)
    _add_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=config.max_body_bytes)
    app.add_middleware(RequestMetrics, metrics=server.metrics)
    return app


def _add_operational_routes(app: FastAPI) -> None:
    @app.get("/healthz", tags=["operations"], summary="liveness and database check")
    def healthz(state: ServerState = Depends(server_state)) -> dict[str, str]:
        try:
            with state.database.sessions() as session:
                session.execute(text("SELECT 1"))
        except SQLAlchemyError:
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

    @app.exception_handler(OperationalError)
    async def database_unavailable(_request: Request, exc: Any) -> JSONResponse:
        log.error("database unavailable: %s", exc.__class__.__name__)
        return JSONResponse({"detail": "database unavailable, retry later"}, status_code=503)
