"""Registrar settings and the command line that fills them."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from .limits import AddressLimits, Rate

_LOGGER = logging.getLogger(__name__)

SECRET_ENV = "PEERWATCH_ROOM_SECRET"  # noqa: S105 (a variable name)

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the registrar can be told; defaults are safe for the open internet."""

    host: str = "127.0.0.1"
    port: int = 9000
    key: str = "peerjs"
    path: str = "/"
    expire_timeout: float = 5.0
    alive_timeout: float = 60.0
    max_sockets: int = 10_000
    max_frame: int = 64 * 1024
    rate: float = 50.0
    burst: int = 200
    max_strikes: int = 10
    ip_sockets: int = 256
    ip_registrations: float = 120.0
    ip_rate: float = 200.0
    ip_burst: int = 800
    ip_bytes: float = 1024 * 1024
    send_buffer: int = 256 * 1024
    send_timeout: float = 10.0
    queue_per_id: int = 64
    queue_total: int = 10_000
    max_id_length: int = 64
    max_token_length: int = 128
    allow_discovery: bool = False
    room_secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    trusted_proxies: tuple[IPNetwork, ...] = ()
    redis_url: str | None = None
    redis_ttl: float = 15.0
    reuse_port: bool = False
    static_dir: Path | None = None
    sweep_interval: float = 0.5

    @property
    def hard_frame_limit(self) -> int:
        """Frames above this close the socket (1009); between max_frame and this get an ERROR."""
        return self.max_frame * 4

    @property
    def socket_rate(self) -> Rate:
        """Frames per second and burst of one socket."""
        return Rate(self.rate, self.burst)

    @property
    def address_limits(self) -> AddressLimits:
        """What one client address may use over all its sockets."""
        return AddressLimits(
            sockets=self.ip_sockets,
            registrations=Rate(self.ip_registrations / 60, self.ip_registrations),
            frames=Rate(self.ip_rate, self.ip_burst),
            bytes=Rate(self.ip_bytes, max(2 * self.ip_bytes, self.hard_frame_limit)),
        )


def _normalise_path(path: str) -> str:
    """Return the prefix with a leading and trailing slash, as the peerjs client builds URLs."""
    path = "/" + path.strip("/")
    return path if path == "/" else path + "/"


def parse_args(argv: list[str] | None = None) -> Settings:
    """Build Settings from the command line (and PEERWATCH_ROOM_SECRET)."""
    p = argparse.ArgumentParser(
        prog="python -m peerwatch_registrar",
        description="PeerJS-compatible signaling server with plug-and-play rooms.",
    )
    d = Settings(room_secret=b"")
    p.add_argument("--host", default=d.host)
    p.add_argument("--port", type=int, default=d.port)
    p.add_argument("--key", default=d.key, help="PeerJS API key (default %(default)s)")
    p.add_argument("--path", default=d.path, help="path prefix of the PeerJS API")
    p.add_argument("--expire-timeout", type=float, default=d.expire_timeout, metavar="S")
    p.add_argument("--alive-timeout", type=float, default=d.alive_timeout, metavar="S")
    p.add_argument("--max-sockets", type=int, default=d.max_sockets)
    p.add_argument("--max-frame", type=int, default=d.max_frame, metavar="BYTES")
    p.add_argument("--rate", type=float, default=d.rate, help="messages/s per socket")
    p.add_argument("--burst", type=int, default=d.burst, help="message burst per socket")
    p.add_argument("--max-strikes", type=int, default=d.max_strikes,
                   help="malformed frames answered before the socket is closed")  # fmt: skip
    p.add_argument("--ip-sockets", type=int, default=d.ip_sockets,
                   help="open sockets per client address")  # fmt: skip
    p.add_argument("--ip-registrations", type=float, default=d.ip_registrations,
                   help="registrations per minute per client address")  # fmt: skip
    p.add_argument("--ip-rate", type=float, default=d.ip_rate,
                   help="frames/s (PINGs included) per client address")  # fmt: skip
    p.add_argument("--ip-burst", type=int, default=d.ip_burst,
                   help="frame burst per client address")  # fmt: skip
    p.add_argument("--ip-bytes", type=float, default=d.ip_bytes,
                   help="bytes/s received per client address")  # fmt: skip
    p.add_argument("--send-buffer", type=int, default=d.send_buffer, metavar="BYTES",
                   help="unsent bytes a socket may hold before it counts as stalled")  # fmt: skip
    p.add_argument("--send-timeout", type=float, default=d.send_timeout, metavar="S",
                   help="a socket stalled this long is closed")  # fmt: skip
    p.add_argument("--queue-per-id", type=int, default=d.queue_per_id)
    p.add_argument("--queue-total", type=int, default=d.queue_total)
    p.add_argument("--max-id-length", type=int, default=d.max_id_length)
    p.add_argument("--allow-discovery", action="store_true")
    p.add_argument("--room-secret", default=None, help=f"room id HMAC secret (or ${SECRET_ENV})")
    p.add_argument("--trusted-proxy", action="append", default=[], metavar="CIDR", nargs="+")
    p.add_argument("--redis-url", default=None)
    p.add_argument("--redis-ttl", type=float, default=d.redis_ttl, metavar="S")
    p.add_argument("--reuse-port", action="store_true",
                   help="share the port with other nodes on this host (SO_REUSEPORT; with "
                        "--redis-url, to hold more sockets than one process may open)")  # fmt: skip
    p.add_argument("--static", type=Path, default=None, metavar="DIR")
    a = p.parse_args(argv)

    secret_text = a.room_secret or os.environ.get(SECRET_ENV)
    if secret_text:
        secret = secret_text.encode()
    else:
        secret = secrets.token_bytes(32)
        _LOGGER.warning("no room secret set: room ids will change when this process restarts")
    try:
        proxies = tuple(
            ipaddress.ip_network(c, strict=False) for group in a.trusted_proxy for c in group
        )
    except ValueError as err:
        p.error(f"--trusted-proxy: {err}")
    if a.static is not None and not a.static.is_dir():
        p.error(f"--static: {a.static} is not a directory")
    positive = ("expire_timeout", "alive_timeout", "rate", "redis_ttl", "send_timeout")
    for name in (*positive, "ip_registrations", "ip_rate", "ip_bytes"):
        if getattr(a, name) <= 0:
            p.error(f"--{name.replace('_', '-')} must be positive")
    at_least_one = ("max_sockets", "max_frame", "burst", "queue_per_id", "queue_total")
    for name in (*at_least_one, "max_strikes", "ip_sockets", "ip_burst", "send_buffer"):
        if getattr(a, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    return Settings(
        host=a.host,
        port=a.port,
        key=a.key,
        path=_normalise_path(a.path),
        expire_timeout=a.expire_timeout,
        alive_timeout=a.alive_timeout,
        max_sockets=a.max_sockets,
        max_frame=a.max_frame,
        rate=a.rate,
        burst=a.burst,
        max_strikes=a.max_strikes,
        ip_sockets=a.ip_sockets,
        ip_registrations=a.ip_registrations,
        ip_rate=a.ip_rate,
        ip_burst=a.ip_burst,
        ip_bytes=a.ip_bytes,
        send_buffer=a.send_buffer,
        send_timeout=a.send_timeout,
        queue_per_id=a.queue_per_id,
        queue_total=a.queue_total,
        max_id_length=a.max_id_length,
        allow_discovery=a.allow_discovery,
        room_secret=secret,
        trusted_proxies=proxies,
        redis_url=a.redis_url,
        redis_ttl=a.redis_ttl,
        reuse_port=a.reuse_port,
        static_dir=a.static,
    )
