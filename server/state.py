"""What every request handler needs, built once by :func:`server.app.create_app`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from fastapi import Request

from models.base import utc_now
from server.config import ServerConfig
from server.database import ServerDatabase
from server.metrics import ServerMetrics
from server.photos import PhotoVault
from server.pubsub import LocalPubSub, PubSub
from server.security.ca import DeviceCA
from server.security.change_signing import ChangeSigner
from server.security.login_gate import LoginGate
from server.security.login_throttle import AddressBlocks, AddressPolicy, ThrottlePolicy
from server.security.tokens import TokenService


@dataclass
class ServerState:
    config: ServerConfig
    database: ServerDatabase
    ca: DeviceCA
    tokens: TokenService
    metrics: ServerMetrics
    signer: ChangeSigner
    # signs lost/stolen, watchlist and manifest versions as they are written
    list_signer: ChangeSigner
    login_gate: LoginGate = field(default_factory=lambda: LoginGate(2, 8))
    throttle: ThrottlePolicy = field(default_factory=lambda: ThrottlePolicy(3, 2.0, 900, 3600))
    address_budget: AddressPolicy = field(default_factory=lambda: AddressPolicy(20, 300, 300, 3600))
    # the address blocks this process heard of (refused before the login gate)
    address_blocks: AddressBlocks = field(default_factory=AddressBlocks)
    pubsub: PubSub = field(default_factory=LocalPubSub)
    photos: PhotoVault | None = None
    # the control room's time (claims lapsing, approvals expiring, the wall's token); tests
    # inject one, with the same clock in ``tokens.clock``
    clock: Callable[[], datetime] = utc_now

    def close(self) -> None:
        self.pubsub.close()
        self.login_gate.close()
        self.database.close()


def server_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.server
    return state
