"""A registrar under attack, with real sockets against a real process: one client must never
stall it, flood through it or cost it unbounded work, however it behaves or reconnects."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import os
import re
import socket
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from peerwatch_registrar.rooms import client_ip, room_id

from .conftest import Peer, Registrar

UNLIMITED = ("--ip-rate", "1e6", "--ip-burst", "1000000", "--ip-bytes", "1e9")
PROXY = ("--trusted-proxy", "127.0.0.1/32")


async def open_from(
    session: aiohttp.ClientSession, reg: Registrar, peer_id: str, ip: str, token: str = ""
) -> tuple[Peer, dict[str, Any]]:
    """A raw peer whose address (through the trusted proxy header) is `ip`; its first frame."""
    token = token or f"tok-{peer_id}"
    params = {"key": "peerjs", "id": peer_id, "token": token, "version": "1.5.5"}
    ws = await session.ws_connect(
        reg.ws_url, params=params, autoping=False, headers={"X-Forwarded-For": ip}
    )
    peer = Peer(ws, peer_id, token)
    return peer, await peer.recv()


async def metric(session: aiohttp.ClientSession, reg: Registrar, name: str) -> float:
    """One sample of /metrics (0 when absent)."""
    async with session.get(reg.http + "/metrics") as resp:
        text = await resp.text()
    found = re.search(rf"^peerwatch_registrar_{re.escape(name)} (\S+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


async def metric_is(
    session: aiohttp.ClientSession, reg: Registrar, name: str, value: float
) -> bool:
    """Tell whether a /metrics sample has a value now."""
    return await metric(session, reg, name) == value


async def until(check: Callable[[], Any], limit: float = 15.0) -> None:
    """Poll an async condition until it holds (or fail after a generous limit)."""
    deadline = time.monotonic() + limit
    while not await check():
        assert time.monotonic() < deadline, "condition never held"
        await asyncio.sleep(0.05)


async def received(peer: Peer, quiet: float = 1.0) -> list[dict[str, Any]]:
    """Every frame until the socket stays quiet for `quiet` seconds."""
    frames = []
    with contextlib.suppress(asyncio.TimeoutError):
        while True:
            msg = await peer.ws.receive(quiet)
            if msg.type is not aiohttp.WSMsgType.TEXT:
                break
            frames.append(json.loads(msg.data))
    return frames


async def close_code(peer: Peer, wait: float = 15.0) -> tuple[int | None, list[Any]]:
    """Read until the server closes the socket; its close code and what came before."""
    seen: list[Any] = []
    while True:
        msg = await peer.ws.receive(wait)
        if msg.type is aiohttp.WSMsgType.CLOSE:
            return int(msg.data), seen
        if msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
            return peer.ws.close_code, seen
        seen.append(msg.type if msg.type is aiohttp.WSMsgType.PONG else json.loads(msg.data))


def _masked(text: str) -> bytes:
    """A masked client text frame."""
    data, mask = text.encode(), os.urandom(4)
    n = len(data)
    head = bytes((0x81, 0x80 | n)) if n < 126 else bytes((0x81, 0xFE)) + n.to_bytes(2)
    key = (mask * (n // 4 + 1))[:n]
    return head + mask + bytes(a ^ b for a, b in zip(data, key, strict=True))


async def non_reading_peer(reg: Registrar, peer_id: str) -> asyncio.StreamWriter:
    """A registered socket with a tiny receive buffer that never reads after its handshake."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", reg.port))
    reader, writer = await asyncio.open_connection(sock=sock)
    writer.write(
        f"GET /peerjs?key=peerjs&id={peer_id}&token=t HTTP/1.1\r\nHost: x\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n".encode()
    )
    assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 101")
    return writer


async def test_non_reading_peer_does_not_delay_anyone_elses_expire(
    registrar_factory, connect, session
) -> None:
    reg = registrar_factory(
        "--expire-timeout", "1", "--max-frame", "60000", "--rate", "1000", "--burst", "1000",
        "--send-buffer", "65536", "--send-timeout", "2", *UNLIMITED,
    )  # fmt: skip
    sink = await non_reading_peer(reg, "sink")
    sink.write(_masked(json.dumps({"type": "OFFER", "dst": "ghost1", "payload": {}})))
    await until(lambda: metric_is(session, reg, "queued_messages", 1))
    filler: Peer = await connect(reg, "filler")
    blob = "x" * 50_000
    for _ in range(300):  # 15 MB for a socket that reads nothing
        await filler.send({"type": "CANDIDATE", "dst": "sink", "payload": blob})
    alice: Peer = await connect(reg, "alice")
    await alice.send({"type": "OFFER", "dst": "ghost2", "payload": {}})
    started = time.monotonic()
    assert await alice.recv(10) == {"type": "EXPIRE", "src": "ghost2", "dst": "alice"}
    assert time.monotonic() - started < 8
    # The stalled socket is dropped; everyone else goes on.
    await until(lambda: metric_is(session, reg, "peers", 2))
    told = await received(filler, 0.5)  # its sender learns it left, as the reference tells
    assert {"type": "LEAVE", "src": "sink", "dst": "filler"} in told
    await alice.works(filler)
    sink.close()


async def test_reconnecting_flooder_is_held_to_the_address_budget(
    registrar_factory, session
) -> None:
    reg = registrar_factory(*PROXY, "--rate", "1000", "--burst", "1000", "--ip-rate", "20",
                            "--ip-burst", "20", "--ip-registrations", "8")  # fmt: skip
    bob, first = await open_from(session, reg, "bob", "198.51.100.2")
    assert first == {"type": "OPEN"}
    started = time.monotonic()
    refused = []
    for round_ in range(10):  # a new socket, a new id, a full bucket each time
        flooder, first = await open_from(session, reg, f"flood{round_}", "203.0.113.66")
        if first["type"] != "OPEN":
            refused.append(first)
            continue
        for i in range(100):
            await flooder.send({"type": "CANDIDATE", "dst": "bob", "payload": {"i": i}})
        await flooder.ws.close()
    got = [m for m in await received(bob) if m["type"] == "CANDIDATE"]
    elapsed = time.monotonic() - started
    assert 20 <= len(got) <= 20 + 20 * elapsed + 5, (len(got), elapsed)
    too_many = {"type": "ERROR", "payload": {"msg": "Too many registrations from your address"}}
    assert refused[0] == too_many
    assert 1 <= len(refused) <= 2  # 8 registrations per minute, refilling meanwhile
    await bob.works(bob)  # other addresses keep their own budget


async def test_sockets_per_address(registrar_factory, session) -> None:
    reg = registrar_factory(*PROXY, "--ip-sockets", "3")
    held = [await open_from(session, reg, f"p{i}", "203.0.113.7") for i in range(3)]
    assert [first for _peer, first in held] == [{"type": "OPEN"}] * 3
    _extra, first = await open_from(session, reg, "p3", "203.0.113.7")
    assert first == {"type": "ERROR", "payload": {"msg": "Too many connections from your address"}}
    other, first = await open_from(session, reg, "q", "203.0.113.8")
    assert first == {"type": "OPEN"}
    await held[0][0].ws.close()
    await until(lambda: metric_is(session, reg, "sockets", 3))
    again, first = await open_from(session, reg, "p4", "203.0.113.7")
    assert first == {"type": "OPEN"}
    await again.works(other)


async def test_ping_flood_is_cut_off(registrar_factory, connect) -> None:
    reg = registrar_factory("--rate", "50", "--burst", "100")
    flooder: Peer = await connect(reg, "flooder")
    bob: Peer = await connect(reg, "bob")
    started = time.monotonic()
    with contextlib.suppress(ConnectionError):
        for _ in range(20_000):
            await flooder.ws.ping(b"p")
    code, seen = await close_code(flooder)
    assert code == 1008
    pongs = seen.count(aiohttp.WSMsgType.PONG)
    assert 100 <= pongs <= 100 + 50 * (time.monotonic() - started) + 5
    await bob.works(bob)


async def test_deep_payload_closes_the_socket_after_strikes(registrar_factory, connect) -> None:
    reg = registrar_factory("--max-strikes", "3")
    deep: Peer = await connect(reg, "deep")
    bob: Peer = await connect(reg, "bob")
    frame = '{"type":"OFFER","dst":"bob","payload":' + "[" * 300 + "]" * 300 + "}"
    with contextlib.suppress(ConnectionError):
        for _ in range(10):
            await deep.ws.send_str(frame)
    code, seen = await close_code(deep)
    assert code == 1008
    assert seen == [{"type": "ERROR", "payload": {"msg": "Payload nested too deeply"}}] * 3
    await bob.nothing()
    assert "Traceback" not in reg.proc.log()
    await bob.works(bob)


async def test_room_membership_follows_the_address(registrar_factory, session) -> None:
    reg = registrar_factory(*PROXY)
    home, away = "198.51.100.10", "203.0.113.20"
    base = reg.http + "/peerjs"

    async def call(method: str, path: str, ip: str) -> Any:
        async with session.request(method, base + path, headers={"X-Forwarded-For": ip}) as r:
            assert r.status == 200, (path, r.status)
            return await r.json()

    room_home, room_away = room_id(b"test-secret", home), room_id(b"test-secret", away)
    _alice, _ = await open_from(session, reg, "alice", home)
    bob, _ = await open_from(session, reg, "bob", home)
    for peer in ("alice", "bob"):
        await call("POST", f"/{peer}/tok-{peer}/room/{room_home}/join", home)
    moved, first = await open_from(session, reg, "alice", away)  # the phone left home
    assert first == {"type": "OPEN"}
    assert await call("GET", f"/bob/tok-bob/room/{room_home}/members", home) == ["bob"]
    # Joining the new network's room leaves any other, here by HTTP from the new address.
    await call("POST", f"/bob/tok-bob/room/{room_away}/join", away)
    assert await call("GET", f"/bob/tok-bob/room/{room_away}/members", away) == ["bob"]
    assert await call("GET", "/alice/tok-alice/room/id", away) == {"roomId": room_away}
    await moved.works(bob)


def test_forwarded_for_with_ports_and_brackets() -> None:
    trusted = [ipaddress.ip_network("10.0.0.0/8")]
    assert client_ip("10.0.0.1", ["203.0.113.5:43210"], trusted) == "203.0.113.5"
    assert client_ip("10.0.0.1", ["[2001:db8::7]:443"], trusted) == "2001:db8::7"
    assert client_ip("10.0.0.1", ["[2001:db8::8]"], trusted) == "2001:db8::8"
    assert client_ip("10.0.0.1", ["2001:db8::9"], trusted) == "2001:db8::9"
    assert client_ip("10.0.0.1", ["198.51.100.1:1, 10.0.0.2:80"], trusted) == "198.51.100.1"


async def test_a_connection_that_never_finishes_its_request_is_dropped(registrar_factory) -> None:
    reg = registrar_factory()
    reader, writer = await asyncio.open_connection("127.0.0.1", reg.port)
    writer.write(b"GET /peerjs?key=peerjs&id=slow&token=t HTTP/1.1\r\nHost: x\r\n")  # no end
    started = time.monotonic()
    with contextlib.suppress(ConnectionResetError):  # closed by the server (RST or FIN)
        assert await asyncio.wait_for(reader.read(), 30) == b""
    assert time.monotonic() - started > 5  # after the handshake timeout, not at once
    writer.close()
