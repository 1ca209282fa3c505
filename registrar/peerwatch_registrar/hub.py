"""The signaling core: registered sockets, relay, queues with expiry, liveness and limits."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import logging
import time
from collections import deque
from collections.abc import Mapping
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from . import protocol as p
from .config import Settings
from .metrics import Metrics
from .store import Claim, Registration, Store

_LOGGER = logging.getLogger(__name__)

CLOSE_REPLACED = 4000  # the same id and token connected again elsewhere


def token_hash(token: str) -> str:
    """The token as stored and compared: never kept or logged in clear."""
    return hashlib.sha256(token.encode()).hexdigest()


class Client:
    """One registered WebSocket and its rate-limit bucket."""

    __slots__ = ("last_seen", "peer_id", "reg", "stamp", "strikes", "tokens", "ws")

    def __init__(self, peer_id: str, ws: web.WebSocketResponse, reg: Registration, now: float,
                 burst: int) -> None:  # fmt: skip
        self.peer_id = peer_id
        self.ws = ws
        self.reg = reg
        self.last_seen = now
        self.tokens = float(burst)
        self.stamp = now
        self.strikes = 0

    def take_token(self, now: float, rate: float, burst: int) -> bool:
        """Token bucket: tell whether one more frame is allowed now."""
        self.tokens = min(float(burst), self.tokens + (now - self.stamp) * rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class Hub:
    """Every socket of this node, and the rules of the PeerJS protocol."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.metrics = Metrics()
        self.clients: dict[str, Client] = {}
        self.sockets = 0  # open WebSockets, registered or not
        self._conns = itertools.count(1)
        self._pending: dict[tuple[str, str], deque[float]] = {}
        self._pending_total = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._closers: set[asyncio.Task[None]] = set()
        self._closing = False

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the store and the background sweeps."""
        await self.store.start(self._on_remote)
        self._tasks.append(asyncio.create_task(self._sweep_loop()))
        if self.settings.redis_url:
            self._tasks.append(asyncio.create_task(self._refresh_loop()))

    async def shutdown(self) -> None:
        """Close every socket with 1001 (going away) and release this node's ids."""
        self._closing = True
        for task in self._tasks:
            task.cancel()
        clients = list(self.clients.values())
        for client in clients:
            self._close(client, WSCloseCode.GOING_AWAY, "server shutdown")
        if self._closers:
            await asyncio.wait(self._closers, timeout=5)
        for client in clients:
            await self._unregister(client)
        await self.store.close()

    def _close(self, client: Client, code: int, reason: str) -> None:
        """Close a socket in the background (the close handshake may take a while)."""

        async def close() -> None:
            with contextlib.suppress(Exception):
                await client.ws.close(code=code, message=reason.encode())

        task = asyncio.create_task(close())
        self._closers.add(task)
        task.add_done_callback(self._closers.discard)

    # -- WebSocket session -----------------------------------------------------------------

    async def serve(self, ws: web.WebSocketResponse, query: Mapping[str, str], ip: str) -> None:
        """Run one prepared WebSocket from registration to close."""
        self.sockets += 1
        client: Client | None = None
        try:
            try:
                client = await self._register(ws, query, ip)
            except Exception:
                _LOGGER.exception("registration failed")
                await self._refuse(ws, "internal", p.error("Internal server error"))
                return
            if client is not None:
                await self._read_loop(client)
        finally:
            self.sockets -= 1
            if client is not None:
                await self._unregister(client)
                _LOGGER.info("closed", extra={"peer": client.peer_id, "code": ws.close_code})

    async def _refuse(self, ws: web.WebSocketResponse, reason: str, frame: str) -> None:
        self.metrics.refused_registrations[reason] += 1
        with contextlib.suppress(ConnectionError, RuntimeError):
            await ws.send_str(frame)
        await ws.close()

    def _check_params(self, peer_id: str, token: str, key: str) -> tuple[str, str] | None:
        """Why a new socket is refused (reason, ERROR text), in the reference's order."""
        s = self.settings
        if not (peer_id and token and key):
            return "missing_params", p.MSG_NO_PARAMS
        if key != s.key:
            return "invalid_key", p.MSG_INVALID_KEY
        if not p.valid_id(peer_id, s.max_id_length):
            return "invalid_id", "Invalid id"
        if not p.valid_token(token, s.max_token_length):
            return "invalid_token", p.MSG_INVALID_TOKEN
        if len(self.clients) >= s.max_sockets and peer_id not in self.clients:
            return "limit", p.MSG_LIMIT
        return None

    async def _register(
        self, ws: web.WebSocketResponse, query: Mapping[str, str], ip: str
    ) -> Client | None:
        s = self.settings
        peer_id, token, key = (query.get(k, "") for k in ("id", "token", "key"))
        refused = self._check_params(peer_id, token, key)
        if refused is not None:
            await self._refuse(ws, refused[0], p.error(refused[1]))
            return None
        reg = Registration(self.store.node, next(self._conns), token_hash(token))
        claim, old = await self.store.claim(peer_id, reg)
        if claim is Claim.TAKEN:
            taken = p.encode(p.ID_TAKEN, payload={"msg": p.MSG_ID_TAKEN})
            await self._refuse(ws, "id_taken", taken)
            return None
        client = Client(peer_id, ws, reg, time.monotonic(), s.burst)
        if old is not None:
            await self._evict(peer_id, old)
        self.clients[peer_id] = client
        _LOGGER.info("open", extra={"peer": peer_id, "ip": ip, "takeover": old is not None})
        await self._send(client, p.encode(p.OPEN))
        for raw in await self.store.drain(peer_id):
            await self._send(client, raw)
        return client

    async def _evict(self, peer_id: str, old: Registration) -> None:
        """Close the socket a same-token reconnect replaces, here or on its node."""
        if old.node != self.store.node:
            await self.store.forward(old.node, {"k": "kick", "d": peer_id, "c": old.conn})
            return
        current = self.clients.get(peer_id)
        if current is not None and current.reg.conn == old.conn:
            del self.clients[peer_id]
            self._close(current, CLOSE_REPLACED, "replaced")

    async def _unregister(self, client: Client) -> None:
        """Forget a closed socket unless a newer socket took its id over."""
        if self.clients.get(client.peer_id) is not client:
            return
        del self.clients[client.peer_id]
        await self.store.release(client.peer_id, client.reg)
        await self.store.leave_all(client.peer_id)

    async def _read_loop(self, client: Client) -> None:
        ws = client.ws
        async for msg in ws:
            if msg.type is WSMsgType.TEXT:
                try:
                    await self._on_text(client, msg.data)
                except Exception:  # a store failure must not end the session
                    _LOGGER.exception("frame handling failed", extra={"peer": client.peer_id})
                    await self._reject(client, "internal", "Internal server error")
            elif msg.type is WSMsgType.PING:
                client.last_seen = time.monotonic()
                await ws.pong(msg.data)
            elif msg.type is WSMsgType.BINARY:
                await self._reject(client, "binary", "Binary frames are not supported")
            elif msg.type is WSMsgType.ERROR:
                self.metrics.reject("protocol_error")
                _LOGGER.info("socket error", extra={"peer": client.peer_id, "error": str(msg.data)})
            if ws.closed or self.clients.get(client.peer_id) is not client:
                break

    async def _reject(self, client: Client, reason: str, text: str) -> None:
        """Refuse one frame with an ERROR; close a socket that keeps flooding."""
        self.metrics.reject(reason)
        client.strikes += 1
        if client.strikes > self.settings.burst:
            _LOGGER.warning("closing flooding socket", extra={"peer": client.peer_id})
            await client.ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"too many bad frames")
            return
        await self._send(client, p.error(text))

    async def _on_text(self, client: Client, text: str) -> None:
        s = self.settings
        now = time.monotonic()
        if not client.take_token(now, s.rate, s.burst):
            await self._reject(client, "rate", "Rate limit exceeded")
            return
        if len(text) > s.max_frame // 4 and len(text.encode()) > s.max_frame:
            await self._reject(client, "too_big", f"Frame larger than {s.max_frame} bytes")
            return
        try:
            msg = p.parse_frame(text, s.max_id_length)
        except p.FrameError as err:
            await self._reject(client, err.reason, err.msg)
            return
        client.strikes = 0
        if msg.type == p.HEARTBEAT:
            client.last_seen = now
        elif msg.dst is None:  # LEAVE without dst: unregister, as the reference does
            await self._unregister(client)
            await client.ws.close(code=WSCloseCode.OK, message=b"leave")
        else:
            await self._relay(client, msg)

    # -- relay -----------------------------------------------------------------------------

    async def _relay(self, sender: Client, msg: p.Message) -> None:
        assert msg.dst is not None
        raw = p.relayed(msg.type, sender.peer_id, msg.dst, msg.payload)
        if await self._route(msg.dst, raw, sender.peer_id):
            return
        if msg.type in p.NOT_QUEUED:
            return
        error = await self._enqueue(sender.peer_id, msg.dst, raw)
        if error is not None:
            await self._reject(sender, "queue_full", error)

    async def _route(self, dst: str, raw: str, src: str | None = None) -> bool:
        """Deliver to a connected id on any node; False when it is not connected.

        When the socket of `dst` fails, `dst` is unregistered and `src` (if given) gets a LEAVE.
        """
        target = self.clients.get(dst)
        if target is None:
            reg = await self.store.lookup(dst)
            if reg is None or reg.node == self.store.node:
                return False
            if await self.store.forward(reg.node, {"k": "m", "d": dst, "r": raw}):
                self._count(raw)
                return True
            await self.store.release(dst, reg)  # its node is gone
            return False
        if await self._send(target, raw):
            self._count(raw)
            return True
        await self._unregister(target)
        if src is None:
            return False
        await self._route(src, p.encode(p.LEAVE, src=dst, dst=src))
        return True

    def _count(self, raw: str) -> None:
        self.metrics.messages_relayed += 1
        self.metrics.bytes_relayed += len(raw)

    async def _send(self, client: Client, raw: str) -> bool:
        try:
            await client.ws.send_str(raw)
        except (ConnectionError, RuntimeError):
            return False
        return True

    async def _enqueue(self, src: str, dst: str, raw: str) -> str | None:
        """Queue a message for an offline id; return an error text when a bound is hit."""
        s = self.settings
        if self._pending_total >= s.queue_total:
            return "Server message queue is full"
        now = time.time()
        ttl = s.expire_timeout + s.redis_ttl
        if not await self.store.enqueue(dst, src, raw, now=now, limit=s.queue_per_id, ttl=ttl):
            return f"Message queue for {dst} is full"
        self._pending.setdefault((src, dst), deque()).append(now)
        self._pending_total += 1
        return None

    async def _on_remote(self, event: dict[str, Any]) -> None:
        """An event another node sent to this one."""
        kind, dst = event.get("k"), event.get("d")
        if not isinstance(dst, str):
            return
        if kind == "m":
            raw = event.get("r")
            if isinstance(raw, str) and not await self._route(dst, raw):
                _LOGGER.info("forwarded message for a gone peer dropped", extra={"peer": dst})
        elif kind == "kick":
            client = self.clients.get(dst)
            if client is not None and client.reg.conn == event.get("c"):
                del self.clients[dst]
                self._close(client, CLOSE_REPLACED, "replaced")

    # -- background sweeps -----------------------------------------------------------------

    async def _sweep_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.sweep_interval)
            try:
                await self._sweep_dead(time.monotonic())
                await self._sweep_expired(time.time())
            except Exception:
                _LOGGER.exception("sweep failed")

    async def _sweep_dead(self, now: float) -> None:
        """Close sockets silent for alive_timeout (no HEARTBEAT, no ping)."""
        limit = now - self.settings.alive_timeout
        for client in [c for c in self.clients.values() if c.last_seen < limit]:
            _LOGGER.info("alive timeout", extra={"peer": client.peer_id})
            await self._unregister(client)
            self._close(client, WSCloseCode.OK, "alive timeout")

    async def _sweep_expired(self, now: float) -> None:
        """Drop queued messages older than expire_timeout; send one EXPIRE per (src, dst)."""
        cutoff = now - self.settings.expire_timeout
        for pair, stamps in list(self._pending.items()):
            if stamps[0] > cutoff:
                continue
            src, dst = pair
            if await self.store.expire(src, dst, cutoff):
                await self._route(src, p.encode(p.EXPIRE, src=dst, dst=src))
            while stamps and stamps[0] <= cutoff:
                stamps.popleft()
                self._pending_total -= 1
            if not stamps:
                del self._pending[pair]

    async def _refresh_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.redis_ttl / 3)
            try:
                await self.store.refresh({i: c.reg for i, c in self.clients.items()})
            except Exception:
                _LOGGER.exception("refresh failed")

    # -- views -----------------------------------------------------------------------------

    async def gauges(self) -> dict[str, tuple[str, float]]:
        """Current gauge values for /metrics."""
        return {
            "sockets": ("Open WebSockets.", self.sockets),
            "peers": ("Ids registered on this node.", len(self.clients)),
            "queued_messages": ("Messages this node queued for offline ids.", self._pending_total),
            "rooms": ("Rooms with members.", await self.store.room_count()),
        }
