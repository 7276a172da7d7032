"""The client's address: the connection's peer, or, when the peer is one of the configured
``trusted_proxies``, the last address in X-Forwarded-For that is not itself a trusted proxy.
uvicorn's own proxy-header handling is off (it trusts loopback by default, which made
/metrics public behind a local proxy)."""

from __future__ import annotations

from ipaddress import ip_address

from fastapi import Request

from server.config import ServerConfig


def _trusted(config: ServerConfig, host: str) -> bool:
    try:
        address = ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in config.trusted_proxies)


def client_address(request: Request, config: ServerConfig) -> str:
    peer = request.client.host if request.client else "unknown"
    if not config.trusted_proxies or not _trusted(config, peer):
        return peer
    forwarded = ",".join(request.headers.getlist("x-forwarded-for"))
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(config, hop):
            try:
                return str(ip_address(hop))
            except ValueError:
                return peer
    return peer
