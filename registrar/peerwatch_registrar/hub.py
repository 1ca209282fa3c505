"""The signaling core: registered sockets, relay, queues with expiry, liveness and limits.

Nothing shared ever waits on one peer's socket: frames are written at once into a bounded
per-socket buffer; a socket whose buffer stays above its mark past `send_timeout`, or overflows,
is dropped.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import time
from collections.abc import Coroutine
from typing import Any

from . import protocol as p
from .config import Settings
from .limits import Bucket, Budget, Budgets
from .metrics import Metrics
from .rooms import client_ip, room_id
from .store import Claim, Queued, Registration, Store
from .ws import (
    CLOSE_GOING_AWAY,
    CLOSE_OK,
    CLOSE_POLICY,
    HttpFactory,
    Task,
    Upgrade,
    WsConn,
    text_frame,
)

_LOGGER = logging.getLogger(__name__)

CLOSE_REPLACED = 4000  # the same id and token connected again elsewhere
SOCKET_SLACK = 64  # sockets allowed beyond max_sockets while they register or get refused
BUDGET_SWEEP_EVERY = 60  # sweeps between two clean-ups of idle address budgets

_OPEN = text_frame(p.encode(p.OPEN))
_RATE = text_frame(p.error(p.MSG_RATE))


def token_hash(token: str) -> str:
    """The token as stored and compared: never kept or logged in clear."""
    return hashlib.sha256(token.encode()).hexdigest()


class Client(WsConn):
    """One socket: its id once registered, its rate bucket, strikes and address budget."""

    __slots__ = ("bucket", "budget", "hub", "last_seen", "peer_id", "refused", "reg", "strikes")

    def __init__(self, hub: Hub, http: HttpFactory) -> None:
        super().__init__(hub.ws_limits, hub.settings.path + "peerjs", http)
        self.hub = hub
        self.peer_id = ""
        self.reg: Registration | None = None
        self.budget: Budget | None = None
        self.bucket: Bucket | None = None
        self.last_seen = 0.0
        self.strikes = 0  # malformed frames
        self.refused = 0  # rate-limited frames in a row

    def on_upgrade(self, req: Upgrade) -> bool:
        """Refuse upgrades (503) when the node is full."""
        return self.hub.sockets < self.hub.settings.max_sockets + SOCKET_SLACK

    def on_open(self, req: Upgrade) -> Task | None:
        """Check the address budget and the parameters, then register."""
        return self.hub.open(self, req)

    def on_text(self, text: str, size: int) -> Task | None:
        """A client frame."""
        return self.hub.frame(self, text, size)

    def on_ping(self, size: int) -> bool:
        """A PING keeps the socket alive and counts against the same budgets as a frame."""
        if not self.hub.allowed(self, size):
            return False
        self.last_seen = time.monotonic()
        return True

    def on_binary(self, size: int) -> None:
        """Binary frames are not part of the protocol."""
        if self.hub.allowed(self, size):
            self.hub.strike(self, "binary", "Binary frames are not supported")

    def on_bad_text(self) -> None:
        """Text that is not UTF-8 (the socket closes)."""
        self.hub.metrics.reject("bad_utf8")

    def on_stall(self, stalled: bool) -> None:
        """Track sockets whose send buffer is above its mark."""
        if stalled:
            self.hub.stalled.add(self)
        else:
            self.hub.stalled.discard(self)

    def on_lost(self) -> None:
        """Forget the socket."""
        self.hub.lost(self)


class Hub:
    """Every socket of this node, and the rules of the PeerJS protocol."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.metrics = Metrics()
        self.clients: dict[str, Client] = {}
        self.stalled: set[Client] = set()
        self.sockets = 0  # open WebSockets, registered or not
        self.budgets = Budgets(settings.address_limits)
        self.ws_limits = (settings.hard_frame_limit, settings.send_buffer, 4 * settings.send_buffer)
        self._socket_rate = settings.socket_rate
        self._conns = itertools.count(1)
        self._tasks: list[asyncio.Task[None]] = []
        self._background: set[asyncio.Task[None]] = set()

    def connection(self, http: HttpFactory) -> Client:
        """A protocol object for one accepted connection."""
        return Client(self, http)

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the store and the background sweeps."""
        await self.store.start(self._on_remote)
        self._tasks.append(asyncio.create_task(self._sweep_loop()))
        if self.settings.redis_url:
            self._tasks.append(asyncio.create_task(self._refresh_loop()))

    async def shutdown(self) -> None:
        """Close every socket with 1001 (going away) and release this node's ids."""
        for task in self._tasks:
            task.cancel()
        clients = list(self.clients.values())
        self.clients.clear()
        for client in clients:
            client.close(CLOSE_GOING_AWAY, "server shutdown")
        for client in clients:
            await self._release(client)
        if self._background:
            await asyncio.wait(self._background, timeout=5)
        await self.store.close()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- registration ----------------------------------------------------------------------

    def open(self, client: Client, req: Upgrade) -> Task | None:
        """A new socket: count it against its address, then check and register it."""
        s, now = self.settings, time.monotonic()
        ip = client_ip(req.peer, req.forwarded_for, s.trusted_proxies)
        budget = client.budget = self.budgets.get(ip, now)
        self.sockets += 1
        budget.sockets += 1
        limits = self.budgets.limits
        if budget.sockets > limits.sockets:
            return self._refuse(client, "address_sockets", p.error(p.MSG_ADDRESS_SOCKETS))
        if not budget.registrations.take(limits.registrations, now):
            return self._refuse(client, "address_rate", p.error(p.MSG_ADDRESS_REGISTRATIONS))
        peer_id, token, key = (req.query.get(k, "") for k in ("id", "token", "key"))
        refused = self._check_params(peer_id, token, key)
        if refused is not None:
            return self._refuse(client, refused[0], p.error(refused[1]))
        room = room_id(s.room_secret, ip)
        reg = Registration(self.store.node, next(self._conns), token_hash(token), room)
        return self._register(client, peer_id, reg, ip)

    def _refuse(self, client: Client, reason: str, frame: bytes) -> None:
        self.metrics.refused_registrations[reason] += 1
        client.send(text_frame(frame))
        client.close(CLOSE_OK)

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

    async def _register(self, client: Client, peer_id: str, reg: Registration, ip: str) -> None:
        try:
            claim, old = await self.store.claim(peer_id, reg)
        except Exception:
            _LOGGER.exception("registration failed")
            self._refuse(client, "internal", p.error("Internal server error"))
            return
        if claim is Claim.TAKEN:
            taken = p.encode(p.ID_TAKEN, payload={"msg": p.MSG_ID_TAKEN})
            self._refuse(client, "id_taken", taken)
            return
        if client.closing:  # gone while claiming
            await self.store.release(peer_id, reg)
            return
        if old is not None:
            self._evict(peer_id, old)
            if old.room != reg.room:  # the peer moved: it leaves its old network's room
                await self.store.leave_all(peer_id)
        now = time.monotonic()
        client.peer_id, client.reg, client.last_seen = peer_id, reg, now
        client.bucket = Bucket(self._socket_rate, now)
        self.clients[peer_id] = client
        _LOGGER.info("open", extra={"peer": peer_id, "ip": ip, "takeover": old is not None})
        client.send(_OPEN)
        for raw in await self.store.drain(peer_id):
            client.send(text_frame(raw.encode()))

    def _evict(self, peer_id: str, old: Registration) -> None:
        """Close the socket a same-token reconnect replaces, here or on its node."""
        if old.node != self.store.node:
            self._spawn(self._forward(old.node, {"k": "kick", "d": peer_id, "c": old.conn}))
            return
        current = self.clients.get(peer_id)
        if current is not None:
            self._kick(current, old.conn)

    def _kick(self, client: Client, conn: object) -> None:
        """Close a socket replaced by a same-token reconnect, if it is the one replaced."""
        if client.reg is not None and client.reg.conn == conn:
            del self.clients[client.peer_id]
            client.close(CLOSE_REPLACED, "replaced")

    async def _forward(self, node: str, event: dict[str, Any]) -> None:
        await self.store.forward(node, event)

    def lost(self, client: Client) -> None:
        """A socket closed: release its id unless a newer socket took it over."""
        self.sockets -= 1
        self.stalled.discard(client)
        if client.budget is not None:
            client.budget.sockets -= 1
        if client.peer_id:
            _LOGGER.info("closed", extra={"peer": client.peer_id})
            self._forget(client)

    def _forget(self, client: Client) -> None:
        if self.clients.get(client.peer_id) is client:
            del self.clients[client.peer_id]
            self._spawn(self._release(client))

    async def _release(self, client: Client) -> None:
        assert client.reg is not None
        try:
            await self.store.release(client.peer_id, client.reg)
            await self.store.leave_all(client.peer_id)
        except Exception:
            _LOGGER.exception("release failed", extra={"peer": client.peer_id})

    # -- frames ----------------------------------------------------------------------------

    def allowed(self, client: Client, size: int) -> bool:
        """Count a frame (or PING) against its socket and address; refuse it when over."""
        now = time.monotonic()
        bucket, budget = client.bucket, client.budget
        if bucket is None or budget is None:
            return False
        if bucket.take(self._socket_rate, now) and budget.take_frame(
            self.budgets.limits, now, size
        ):
            client.refused = 0
            return True
        self.metrics.reject("rate")
        client.refused += 1
        if client.refused > self.settings.burst:
            _LOGGER.warning("closing flooding socket", extra={"peer": client.peer_id})
            self.metrics.closed["rate"] += 1
            client.close(CLOSE_POLICY, "rate limit")
        else:
            client.send(_RATE)
        return False

    def strike(self, client: Client, reason: str, text: str) -> None:
        """A malformed frame: answer an ERROR, close the socket after `max_strikes` of them."""
        self.metrics.reject(reason)
        client.strikes += 1
        if client.strikes > self.settings.max_strikes:
            _LOGGER.warning("closing socket sending bad frames", extra={"peer": client.peer_id})
            self.metrics.closed["strikes"] += 1
            client.close(CLOSE_POLICY, "too many bad frames")
        else:
            client.send(text_frame(p.error(text)))

    def frame(self, client: Client, text: str, size: int) -> Task | None:
        """One text frame of a registered socket."""
        s = self.settings
        if not self.allowed(client, size):
            return None
        if size > s.max_frame:
            self.strike(client, "too_big", f"Frame larger than {s.max_frame} bytes")
            return None
        try:
            msg = p.parse_frame(text, s.max_id_length)
            if msg.type == p.HEARTBEAT:
                client.last_seen = time.monotonic()
                return None
            if msg.dst is None:  # LEAVE without dst: unregister, as the reference does
                self._forget(client)
                client.close(CLOSE_OK, "leave")
                return None
            raw = p.relayed(msg.type, client.peer_id, msg.dst, msg.payload)
        except p.FrameError as err:
            self.strike(client, err.reason, err.msg)
            return None
        return self._relay(client, msg.type, msg.dst, raw)

    # -- relay -----------------------------------------------------------------------------

    def _relay(self, sender: Client, kind: str, dst: str, raw: bytes) -> Task | None:
        target = self.clients.get(dst)
        if target is None:
            return self._relay_away(sender, kind, dst, raw)
        if target.send(text_frame(raw)):
            self._count(raw)
        else:  # its socket is going away: tell the sender, as the reference does
            sender.send(text_frame(p.encode(p.LEAVE, src=dst, dst=sender.peer_id)))
        return None

    async def _relay_away(self, sender: Client, kind: str, dst: str, raw: bytes) -> None:
        """Forward to the node holding `dst`, or queue for an offline id."""
        try:
            if await self._deliver_away(dst, raw):
                return
            if kind in p.NOT_QUEUED:
                return
            error = await self._enqueue(sender.peer_id, dst, raw)
        except Exception:  # a store failure must not end the session
            _LOGGER.exception("relay failed", extra={"peer": sender.peer_id})
            error = "Internal server error"
        if error is not None:
            self.metrics.reject("queue_full")
            sender.send(text_frame(p.error(error)))

    async def _deliver_away(self, dst: str, raw: bytes) -> bool:
        """Deliver to `dst` on another node (or here, if it registered meanwhile)."""
        reg = await self.store.lookup(dst)
        if reg is None:
            return False
        if reg.node == self.store.node:
            target = self.clients.get(dst)
            return target is not None and self._send(target, raw)
        if await self.store.forward(reg.node, {"k": "m", "d": dst, "r": raw.decode()}):
            self._count(raw)
            return True
        await self.store.release(dst, reg)  # its node is gone
        return False

    async def _deliver(self, dst: str, raw: bytes) -> None:
        """Deliver a server message to a connected id on any node, or drop it."""
        target = self.clients.get(dst)
        if target is not None:
            self._send(target, raw)
        else:
            await self._deliver_away(dst, raw)

    def _send(self, target: Client, raw: bytes) -> bool:
        if target.send(text_frame(raw)):
            self._count(raw)
            return True
        return False

    def _count(self, raw: bytes) -> None:
        self.metrics.messages_relayed += 1
        self.metrics.bytes_relayed += len(raw)

    async def _enqueue(self, src: str, dst: str, raw: bytes) -> str | None:
        """Queue a message for an offline id; return an error text when a bound is hit."""
        s = self.settings
        queued = await self.store.enqueue(
            dst,
            src,
            raw.decode(),
            now=time.time(),
            limit=s.queue_per_id,
            total=s.queue_total,
            ttl=s.expire_timeout + s.redis_ttl,
        )
        if queued is Queued.FULL:
            return "Server message queue is full"
        if queued is Queued.ID_FULL:
            return f"Message queue for {dst} is full"
        return None

    async def _on_remote(self, event: dict[str, Any]) -> None:
        """An event another node sent to this one: handled without waiting on any socket."""
        kind, dst = event.get("k"), event.get("d")
        if not isinstance(dst, str):
            return
        client = self.clients.get(dst)
        if kind == "m":
            raw = event.get("r")
            if not isinstance(raw, str) or client is None or not self._send(client, raw.encode()):
                _LOGGER.info("forwarded message for a gone peer dropped", extra={"peer": dst})
        elif kind == "kick" and client is not None and client.reg is not None:
            self._kick(client, event.get("c"))

    # -- background sweeps -----------------------------------------------------------------

    async def _sweep_loop(self) -> None:
        for tick in itertools.count(1):
            await asyncio.sleep(self.settings.sweep_interval)
            try:
                now = time.monotonic()
                self._sweep_dead(now)
                self._sweep_stalled(asyncio.get_running_loop().time())
                if tick % BUDGET_SWEEP_EVERY == 0:
                    self.budgets.sweep(now)
                await self._sweep_expired(time.time())
            except Exception:
                _LOGGER.exception("sweep failed")

    def _sweep_dead(self, now: float) -> None:
        """Close sockets silent for alive_timeout (no HEARTBEAT, no ping)."""
        limit = now - self.settings.alive_timeout
        for client in [c for c in self.clients.values() if c.last_seen < limit]:
            _LOGGER.info("alive timeout", extra={"peer": client.peer_id})
            self.metrics.closed["alive_timeout"] += 1
            self._forget(client)
            client.close(CLOSE_OK, "alive timeout")

    def _sweep_stalled(self, now: float) -> None:
        """Drop sockets whose send buffer stayed above its mark for send_timeout."""
        limit = now - self.settings.send_timeout
        for client in [c for c in self.stalled if c.stalled and c.stalled < limit]:
            _LOGGER.info("send timeout", extra={"peer": client.peer_id})
            self.metrics.closed["send_timeout"] += 1
            self.stalled.discard(client)
            client.abort()

    async def _sweep_expired(self, now: float) -> None:
        """Drop queued messages older than expire_timeout; send one EXPIRE per (src, dst)."""
        for src, dst in await self.store.expire_due(now - self.settings.expire_timeout):
            await self._deliver(src, p.encode(p.EXPIRE, src=dst, dst=src))

    async def _refresh_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.redis_ttl / 3)
            try:
                regs = {i: c.reg for i, c in self.clients.items() if c.reg is not None}
                await self.store.refresh(regs)
            except Exception:
                _LOGGER.exception("refresh failed")

    # -- views -----------------------------------------------------------------------------

    async def gauges(self) -> dict[str, tuple[str, float]]:
        """Current gauge values for /metrics."""
        return {
            "sockets": ("Open WebSockets.", self.sockets),
            "peers": ("Ids registered on this node.", len(self.clients)),
            "queued_messages": ("Messages queued for offline ids.", await self.store.queued()),
            "rooms": ("Rooms with members.", await self.store.room_count()),
            "addresses": ("Client addresses with a budget.", len(self.budgets)),
        }
