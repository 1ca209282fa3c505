"""Larger kernel buffers for a peer connection's ICE UDP sockets.

aioice asks for a 256 KiB receive buffer. Measured on loopback with the edge sending snapshots,
a peer that fell a few milliseconds behind overflowed it (`drops` in /proc/net/udp on both ends:
data at the receiver, the SACK per packet aiortc answers with at the sender); every drop cost a
fast retransmit and a halved congestion window, or a T3 timeout of at least one second. The
kernel caps the request at `net.core.rmem_max` / `wmem_max`.
"""

from __future__ import annotations

import logging
import socket
from asyncio.trsock import TransportSocket
from typing import Final

from aiortc import RTCPeerConnection

_LOGGER = logging.getLogger(__name__)

UDP_BUFFER: Final = 4 * 1024 * 1024


def ice_sockets(pc: RTCPeerConnection) -> list[TransportSocket]:
    """The UDP sockets pc's ICE agent gathered (none before `setLocalDescription`).

    aiortc exposes no public handle on them: the path goes through aioice's `Connection`.
    """
    sctp = pc.sctp
    gatherer = sctp.transport.transport.iceGatherer if sctp is not None else None
    connection = getattr(gatherer, "_connection", None)
    sockets = []
    for protocol in getattr(connection, "_protocols", ()):
        transport = getattr(protocol, "transport", None)
        sock = transport.get_extra_info("socket") if transport is not None else None
        if sock is not None:
            sockets.append(sock)
    return sockets


def enlarge_udp_buffers(pc: RTCPeerConnection, size: int = UDP_BUFFER) -> int:
    """Ask for `size`-byte send and receive buffers on pc's ICE sockets; return how many."""
    sockets = ice_sockets(pc)
    for sock in sockets:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, size)
        except OSError as err:
            _LOGGER.debug("could not enlarge a UDP buffer: %s", err)
    if not sockets:
        _LOGGER.debug("no ICE sockets found to enlarge (aioice internals changed?)")
    return len(sockets)
