"""A wall-clock step is an alarm: the lane goes out of service naming it, the heartbeat says
so, and it clears once the clock has kept pace. A certificate the kiosk's clock does not
reach gets a clear message instead of a bare connection error (a real TLS handshake)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kiosk.clock_watch import ClockWatch
from kiosk.config import SyncConfig
from kiosk.lane import Lane, LaneCause
from kiosk.sync.client import ServerClient
from kiosk.sync.errors import ServerCertificateTimeError, ServerUnreachableError


class Clocks:
    def __init__(self) -> None:
        self.wall, self.mono = 1_800_000_000.0, 500.0

    def tick(self, seconds: float) -> None:
        self.wall += seconds
        self.mono += seconds


def test_a_step_back_takes_the_lane_out_and_settles() -> None:
    clocks, lane = Clocks(), Lane()
    watch = ClockWatch(
        lane,
        threshold_s=30,
        settle_s=60,
        interval_s=5,
        wall=lambda: clocks.wall,
        monotonic=lambda: clocks.mono,
    )
    clocks.tick(5)
    assert watch.check() is None and lane.in_service  # normal progress
    # WHEN the wall clock is stepped back ten minutes
    clocks.tick(5)
    clocks.wall -= 600
    step = watch.check()
    # THEN the step is seen, the lane is out of service with the cause named
    assert step is not None and round(step.seconds) == -600
    assert lane.has(LaneCause.CLOCK)
    assert lane.status().faults[0].detail == "wall clock stepped back 600 s"
    assert watch.alarm == "wall clock stepped back 600 s"
    # AND it clears once the clock has kept pace for the settle time
    for _ in range(13):
        clocks.tick(5)
        watch.check()
    assert lane.in_service and watch.alarm is None
    # a step ahead is seen too
    clocks.wall += 3600
    assert watch.check() is not None and "ahead 3600 s" in str(watch.alarm)


# --- certificate time -----------------------------------------------------------------


@pytest.fixture
def future_server(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A TLS server on loopback whose certificate is valid only from tomorrow."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "server.pem", tmp_path / "server.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    handshakes = []

    def serve() -> None:
        try:
            connection, _ = listener.accept()
        except OSError:
            return
        try:
            with context.wrap_socket(connection, server_side=True):
                pass
        except (ssl.SSLError, OSError) as exc:
            handshakes.append(exc)  # the client refused our certificate

    thread = threading.Thread(target=serve, name="tls-future-cert")
    thread.start()
    try:
        yield port, cert_file
    finally:
        listener.close()
        thread.join(10)
        assert handshakes, "the handshake never reached the server"


def test_a_server_certificate_from_the_future_names_the_clock(
    future_server: tuple[int, Path],
) -> None:
    port, cert_file = future_server
    config = SyncConfig(server_url=f"https://127.0.0.1:{port}", ca_cert=cert_file, timeout_s=5)
    with ServerClient(config) as client, pytest.raises(ServerCertificateTimeError) as caught:
        client.heartbeat({})
    message = str(caught.value)
    assert "not valid yet at this kiosk's time" in message and "clock is probably behind" in message
    assert isinstance(caught.value, ServerUnreachableError)  # retried like an outage
    assert caught.value.code == "sync_certificate_time"
