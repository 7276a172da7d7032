"""Prometheus metrics of one app instance (its own registry: no global state)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class ServerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "kiosk_server_requests",
            "HTTP requests by route and status class",
            ["route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "kiosk_server_request_seconds",
            "HTTP request latency",
            ["route"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.items = Counter(
            "kiosk_server_items",
            "items received from kiosks, by kind and outcome",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.refused = Counter(
            "kiosk_server_auth_refused",
            "requests refused for missing or bad credentials",
            ["kind"],
            registry=self.registry,
        )
        self.verifications = Counter(
            "kiosk_server_password_verifications",
            "argon2 password verifications run for logins",
            registry=self.registry,
        )
        self.live = Gauge(
            "kiosk_server_live_waits",
            "open wall streams (wall) and kiosk long polls waiting for an action (commands)",
            ["kind"],
            registry=self.registry,
        )
        self.control_room_received = Counter(
            "kiosk_server_control_room_received",
            "wall updates and lane actions this process heard from the other server processes",
            registry=self.registry,
        )
