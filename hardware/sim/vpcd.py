"""Plug an emulated card into vsmartcard's ``vpcd`` reader driver, so that the real PC/SC
stack (pyscard -> pcscd -> vpcd) talks to it.

vpcd is the server: it listens on a TCP port (35963 for the reader "Virtual PCD 00 00", the
next port for "Virtual PCD 00 01") and the virtual card connects to it. Connecting is putting
the card on the reader; closing the socket is taking it away. Every message in both directions
is a 2-byte big-endian length followed by that many bytes. From vpcd, a message of one byte is
a control code (0 power off, 1 power on, 2 reset, 4 "send your ATR"); anything longer is a
command APDU. The card answers the ATR request with its ATR and an APDU with the response APDU;
power and reset get no answer. A card that raises a ``DeviceError`` (a mute chip) drops
the link: vpcd cannot wait for an answer that never comes, and a real reader loses a chip that
stops answering the same way.

APDU bytes are never logged.
"""

from __future__ import annotations

import logging
import socket
import struct
import threading
import time
from typing import Protocol

from models.errors import DeviceError

log = logging.getLogger(__name__)

DEFAULT_VPCD_HOST = "localhost"
DEFAULT_VPCD_PORT = 35963

CTRL_POWER_OFF = 0
CTRL_POWER_ON = 1
CTRL_RESET = 2
CTRL_ATR = 4

MAX_MESSAGE = 0xFFFF  # the length prefix is two bytes
SW_NO_PRECISE_DIAGNOSIS = b"\x6f\x00"


class VirtualCard(Protocol):
    """What vpcd needs from a card. ``power_on()``, ``power_off()`` and ``reset()`` are called
    too when the card object has them."""

    @property
    def atr(self) -> bytes: ...

    def transmit(self, apdu: bytes) -> bytes: ...


class _CardWentMute(Exception):
    """The card object raised a DeviceError: it no longer answers."""


class VpcdLinkError(DeviceError):
    """The virtual card could not reach vpcd."""

    code = "vpcd_unreachable"


def parse_vpcd_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (or just ``HOST``) to a (host, port) pair."""
    host, sep, port_text = text.rpartition(":")
    if not sep:
        return text or DEFAULT_VPCD_HOST, DEFAULT_VPCD_PORT
    try:
        port = int(port_text)
    except ValueError:
        raise VpcdLinkError(f"bad vpcd port in {text!r}") from None
    if not 0 < port < 65536:
        raise VpcdLinkError(f"vpcd port out of range in {text!r}")
    return host or DEFAULT_VPCD_HOST, port


class VpcdCardLink:
    """One card object served to vpcd on a thread named ``kiosk-vpcd``.

    ``insert()`` connects (the reader sees a card), ``remove()`` disconnects (the card is gone).
    A card can be inserted and removed any number of times.
    """

    def __init__(
        self,
        card: VirtualCard,
        host: str = DEFAULT_VPCD_HOST,
        port: int = DEFAULT_VPCD_PORT,
        *,
        connect_timeout_s: float = 5.0,
    ) -> None:
        self.card = card
        self.host = host
        self.port = port
        self.connect_timeout_s = connect_timeout_s
        self.apdus_served = 0
        self.controls_seen: list[int] = []
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def inserted(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def insert(self) -> None:
        """Connect to vpcd (retrying until it listens) and start answering it."""
        with self._lock:
            if self.inserted:
                return
            sock = self._connect()
            self._sock = sock
            self._thread = threading.Thread(
                target=self._serve, args=(sock,), name="kiosk-vpcd", daemon=False
            )
            self._thread.start()
        log.info("virtual card inserted into vpcd at %s:%d", self.host, self.port)

    def remove(self, join_timeout_s: float = 5.0) -> None:
        """Take the card away: close the link and wait for the serving thread to end."""
        with self._lock:
            sock, thread = self._sock, self._thread
            self._sock = None
            self._thread = None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
            log.info("virtual card removed from vpcd at %s:%d", self.host, self.port)
        if thread is not None and thread is not threading.current_thread():
            thread.join(join_timeout_s)

    def close(self) -> None:
        self.remove()

    def __enter__(self) -> VpcdCardLink:
        self.insert()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- internals ---------------------------------------------------------------------

    def _connect(self) -> socket.socket:
        deadline = time.monotonic() + self.connect_timeout_s
        while True:
            try:
                sock = socket.create_connection((self.host, self.port), timeout=1.0)
            except OSError as exc:
                if time.monotonic() >= deadline:
                    raise VpcdLinkError(
                        f"vpcd does not listen on {self.host}:{self.port}: {exc.strerror or exc}"
                    ) from exc
                time.sleep(0.05)
                continue
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return sock

    def _serve(self, sock: socket.socket) -> None:
        try:
            while True:
                message = _read_message(sock)
                if message is None:
                    break
                answer = self._answer(message)
                if answer is not None:
                    sock.sendall(struct.pack(">H", len(answer)) + answer)
        except (OSError, _CardWentMute):
            pass  # link closed (remove()), vpcd gone, or the chip went mute: the card is out
        finally:
            sock.close()

    def _answer(self, message: bytes) -> bytes | None:
        if len(message) == 1:
            return self._control(message[0])
        self.apdus_served += 1
        try:
            response = bytes(self.card.transmit(message))
        except DeviceError as exc:  # the emulated chip went mute: it leaves the field
            log.info("virtual card stopped answering: %s", exc.code)
            raise _CardWentMute from exc
        except Exception as exc:  # a card bug must not look like a removed card
            log.error("virtual card failed on an APDU: %s", type(exc).__name__)
            return SW_NO_PRECISE_DIAGNOSIS
        if not 2 <= len(response) <= MAX_MESSAGE:
            log.error("virtual card answered %d bytes; sending 6F00", len(response))
            return SW_NO_PRECISE_DIAGNOSIS
        return response

    def _control(self, code: int) -> bytes | None:
        self.controls_seen.append(code)
        if code == CTRL_ATR:
            return bytes(self.card.atr)
        hook = {CTRL_POWER_OFF: "power_off", CTRL_POWER_ON: "power_on", CTRL_RESET: "reset"}.get(
            code
        )
        if hook is None:
            log.warning("unknown vpcd control code %d ignored", code)
            return None
        method = getattr(self.card, hook, None)
        if callable(method):
            try:
                method()
            except Exception as exc:
                log.error("virtual card failed on %s: %s", hook, type(exc).__name__)
        return None


def _quick_ack(sock: socket.socket) -> None:
    """Acknowledge at once (Linux). vpcd writes the length prefix and the APDU separately
    with Nagle's algorithm on: without this, each APDU waits out our delayed ACK (~40 ms)."""
    option = getattr(socket, "TCP_QUICKACK", None)
    if option is not None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, option, 1)
        except OSError:
            pass


def _read_exact(sock: socket.socket, size: int) -> bytes | None:
    chunks = bytearray()
    while len(chunks) < size:
        _quick_ack(sock)
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            return None
        chunks += chunk
    return bytes(chunks)


def _read_message(sock: socket.socket) -> bytes | None:
    header = _read_exact(sock, 2)
    if header is None:
        return None
    (length,) = struct.unpack(">H", header)
    if length == 0:
        return b""
    return _read_exact(sock, length)
