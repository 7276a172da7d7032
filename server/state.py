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
from server.security.change_signing import ChangeSigner
from server.security.login_gate import LoginGate
from server.security.login_throttle import ThrottlePolicy
from server.security.tokens import TokenService


@dataclass
class ServerState:
    config: ServerConfig
    database: ServerDatabase
    ca: DeviceCA
    tokens: TokenService
    metrics: ServerMetrics
    signer: ChangeSigner
    login_gate: LoginGate = field(default_factory=lambda: LoginGate(2, 8))
    throttle: ThrottlePolicy = field(default_factory=lambda: ThrottlePolicy(3, 2.0, 900, 3600))
    pubsub: PubSub = field(default_factory=LocalPubSub)
    photos: PhotoVault | None = None

    def close(self) -> None:
        self.pubsub.close()
        self.login_gate.close()
        self.database.close()


def server_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.server
    return state
