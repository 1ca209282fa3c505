"""Registrar test plumbing: the registrar as a real subprocess and a raw PeerJS WebSocket client."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from tests.support import PYTHON, ServerProcess, free_port


@dataclass
class Registrar:
    """A running registrar process and its base URLs."""

    proc: ServerProcess
    port: int
    path: str = "/"

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}{self.path}peerjs"


@pytest.fixture
def registrar_factory(start_server: Callable[..., ServerProcess]) -> Callable[..., Registrar]:
    """Start `python -m peerwatch_registrar` with extra arguments; stopped after the test."""
    count = 0

    def start(*args: str, path: str = "/", env: dict[str, str] | None = None) -> Registrar:
        nonlocal count
        count += 1
        port = free_port()
        argv = [PYTHON, "-m", "peerwatch_registrar", "--host", "127.0.0.1", "--port", str(port)]
        if path != "/":
            argv += ["--path", path]
        proc = start_server(
            [*argv, *args],
            port=port,
            name=f"registrar{count}",
            health_url=f"http://127.0.0.1:{port}/health",
            env={"PEERWATCH_ROOM_SECRET": "test-secret", **(env or {})},
        )
        return Registrar(proc, port, path)

    return start


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


class Peer:
    """A PeerJS client speaking the wire protocol directly over a real WebSocket."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, peer_id: str, token: str) -> None:
        self.ws = ws
        self.id = peer_id
        self.token = token

    async def send(self, msg: dict[str, Any]) -> None:
        await self.ws.send_str(json.dumps(msg))

    async def recv(self, wait: float = 30.0) -> dict[str, Any]:
        msg = await self.ws.receive(wait)
        while msg.type is aiohttp.WSMsgType.PONG:
            msg = await self.ws.receive(wait)
        assert msg.type is aiohttp.WSMsgType.TEXT, (msg.type, msg.data, msg.extra)
        return json.loads(msg.data)

    async def expect_closed(self, wait: float = 30.0) -> int | None:
        """Wait for the server to close the socket; return the close code it sent."""
        while True:
            msg = await self.ws.receive(wait)
            if msg.type is aiohttp.WSMsgType.CLOSE:
                return int(msg.data)  # the server's code, as a browser's CloseEvent reports it
            if msg.type is aiohttp.WSMsgType.CLOSED:
                return self.ws.close_code
            if msg.type is aiohttp.WSMsgType.CLOSING:
                continue
            assert msg.type is aiohttp.WSMsgType.TEXT, msg

    async def nothing(self, wait: float = 0.3) -> None:
        """Assert that no frame arrives for a while (`wait`: how long silence must last)."""
        with pytest.raises(asyncio.TimeoutError):
            await self.ws.receive(wait)

    async def works(self, other: Peer) -> None:
        """Check this socket still relays: a CANDIDATE reaches `other`."""
        await self.send({"type": "CANDIDATE", "dst": other.id, "payload": {"check": self.id}})
        got = await other.recv()
        assert got == {
            "type": "CANDIDATE",
            "src": self.id,
            "dst": other.id,
            "payload": {"check": self.id},
        }


@pytest.fixture
def connect(session: aiohttp.ClientSession) -> Callable[..., Any]:
    """Open a raw socket: `await connect(reg, id, token=..., key=..., expect_open=...)`."""

    async def open_peer(
        reg: Registrar,
        peer_id: str,
        *,
        token: str | None = None,
        key: str = "peerjs",
        expect_open: bool = True,
    ) -> Peer:
        token = token or f"tok-{peer_id}"
        params = {"key": key, "id": peer_id, "token": token, "version": "1.5.5"}
        ws = await session.ws_connect(reg.ws_url, params=params, autoping=False)
        peer = Peer(ws, peer_id, token)
        if expect_open:
            assert await peer.recv() == {"type": "OPEN"}
        return peer

    return open_peer
