"""What every request handler needs, built once by :func:`server.app.create_app`."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

from server.config import ServerConfig
from server.database import ServerDatabase
from server.metrics import ServerMetrics
from server.photos import PhotoVault
from server.pubsub import LocalPubSub, PubSub
from server.security.ca import DeviceCA
from server.security.login_limit import LoginLimiter
from server.security.tokens import TokenService


@dataclass
class ServerState:
    config: ServerConfig
    database: ServerDatabase
    ca: DeviceCA
    tokens: TokenService
    metrics: ServerMetrics
    login_limiter: LoginLimiter = field(default_factory=lambda: LoginLimiter(5, 300.0))
    pubsub: PubSub = field(default_factory=LocalPubSub)
    photos: PhotoVault | None = None


def server_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.server
    return state
