"""Who may read ``/metrics``: clients from the networks in ``ServerConfig.metrics_allow``
(loopback by default, where a local Prometheus scrapes) without credentials; anyone else
with the bearer token of a technician or an administrator. The client is the connection's
peer unless it is a trusted proxy (:mod:`server.security.client_address`); behind a load
balancer that passes TLS through (HAProxy in TCP mode) every client's peer is the balancer,
so empty ``metrics_allow`` there."""

from __future__ import annotations

from ipaddress import ip_address

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from server.security.client_address import client_address
from server.security.identity import current_user
from server.security.tokens import Role
from server.state import ServerState, server_state

METRICS_ROLES = frozenset({Role.TECHNICIAN, Role.ADMINISTRATOR})

_bearer = HTTPBearer(auto_error=False, description="technician or administrator token")


def client_allowed(state: ServerState, host: str | None) -> bool:
    try:
        address = ip_address(host or "")
    except ValueError:
        return False
    return any(address in network for network in state.config.metrics_allow)


def require_metrics_access(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
    state: ServerState = Depends(server_state),
) -> None:
    if client_allowed(state, client_address(request, state.config)):
        return
    claims = current_user(credentials, state)
    if claims.role not in METRICS_ROLES:
        state.metrics.refused.labels("role").inc()
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="this role may not read metrics")
