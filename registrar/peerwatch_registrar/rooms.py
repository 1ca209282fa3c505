"""Plug-and-play rooms: who is the client (public IP) and which room that IP maps to."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Sequence

from .config import IPNetwork

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _parse_ip(text: str) -> IPAddress | None:
    """An address as proxies write it: `ip`, `ip:port`, `[v6]` or `[v6]:port`."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def client_ip(peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[IPNetwork]) -> str:
    """The client's public IP.

    The TCP peer's address, unless that peer is a trusted proxy: then the right-most
    X-Forwarded-For hop that is not itself a trusted proxy. Other headers are never read.
    """
    addr = _parse_ip(peer or "")
    if addr is None:
        return peer or ""

    def is_trusted(a: IPAddress) -> bool:
        return any(a in net for net in trusted)

    if not is_trusted(addr):
        return str(addr)
    hops = [h for value in forwarded_for for h in value.split(",")]
    for hop in reversed(hops):
        hop_addr = _parse_ip(hop)
        if hop_addr is None:
            break  # garbage from an untrusted writer: stop at the last trusted hop
        addr = hop_addr
        if not is_trusted(hop_addr):
            break
    return str(addr)


def room_id(secret: bytes, ip: str) -> str:
    """The room of a public IP: HMAC-SHA256 with the server secret, 32 hex characters."""
    return hmac.new(secret, ip.encode(), hashlib.sha256).hexdigest()[:32]
