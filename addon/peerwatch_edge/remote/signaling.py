"""A small PeerJS signaling client on an aiohttp WebSocket.

Registers a stable peer id (kept with its token in `data_dir/peer.json`), sends a JSON
`HEARTBEAT` every 5 s, reconnects with back-off, and joins its plug-and-play room after every
(re)connection when the registrar has rooms (the reference npm `peer` server has none: then
rooms are skipped). Relayed messages (OFFER, CANDIDATE, LEAVE, EXPIRE) go to `on_message`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote, urlsplit

import aiohttp

_LOGGER = logging.getLogger(__name__)

PEER_FILE: Final = "peer.json"
CLIENT_VERSION: Final = "1.5.5"
HEARTBEAT_SECONDS: Final = 5.0
OPEN_WAIT: Final = 3.0
BACKOFF_FIRST: Final = 0.5
BACKOFF_MAX: Final = 30.0
STABLE_AFTER: Final = 30.0
RELAYED: Final = frozenset({"OFFER", "CANDIDATE", "LEAVE", "EXPIRE", "ANSWER"})

type Message = dict[str, Any]


@dataclass(slots=True, frozen=True)
class PeerIdentity:
    """The edge's PeerJS id and the token that reclaims it."""

    id: str
    token: str


def load_identity(data_dir: Path, edge_id: str) -> PeerIdentity:
    """Read `data_dir/peer.json`, or create it (id `pw-edge-<edge_id>`, random token, 0600)."""
    path = data_dir / PEER_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        identity = PeerIdentity(id=str(data["id"]), token=str(data["token"]))
        if identity.id.startswith("pw-edge-") and identity.token:
            return identity
        _LOGGER.warning("%s has no usable id or token; writing a new one", path)
    except FileNotFoundError:
        pass
    except (OSError, ValueError, KeyError, TypeError) as err:
        _LOGGER.warning("%s is unreadable (%s); writing a new one", path, err)
    identity = PeerIdentity(id=f"pw-edge-{edge_id}", token=secrets.token_hex(16))
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"id": identity.id, "token": identity.token}, handle)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)
    return identity


class RegistrarError(Exception):
    """The registrar refused us (bad key, id taken by another token, limit reached)."""


class Signaling:
    """One registration at a PeerJS registrar, kept alive until `stop()`."""

    def __init__(
        self,
        url: str,
        key: str,
        identity: PeerIdentity,
        on_message: Callable[[Message], None],
    ) -> None:
        parts = urlsplit(url)
        secure = parts.scheme in ("https", "wss")
        path = parts.path if parts.path.endswith("/") else parts.path + "/"
        self._http = f"{'https' if secure else 'http'}://{parts.netloc}{path}"
        self._ws = f"{'wss' if secure else 'ws'}://{parts.netloc}{path}peerjs"
        self.key = key
        self.identity = identity
        self._on_message = on_message
        self.status = "connecting"
        self.room_id: str | None = None
        self.connected = asyncio.Event()
        self._session: aiohttp.ClientSession | None = None
        self._ws_conn: aiohttp.ClientWebSocketResponse | None = None
        self._task: asyncio.Task[None] | None = None
        self._room_task: asyncio.Task[None] | None = None

    @property
    def room_base(self) -> str:
        """`{http}{key}/{id}/{token}/room/` (the PnP room routes of this peer)."""
        ident = self.identity
        return f"{self._http}{quote(self.key)}/{quote(ident.id)}/{quote(ident.token)}/room/"

    async def start(self) -> None:
        """Start registering in the background."""
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        self._task = asyncio.create_task(self._run(), name="peerjs-signaling")

    async def stop(self) -> None:
        """Close the socket (the registrar then drops us from the room) and stop reconnecting."""
        for task in (self._task, self._room_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._session is not None:
            await self._session.close()
        self.status = "stopped"

    async def send(self, kind: str, dst: str, payload: Message | None = None) -> bool:
        """Send `{type, dst, payload}` (no payload when None); False when not registered now."""
        ws = self._ws_conn
        if ws is None or ws.closed or not self.connected.is_set():
            return False
        message: Message = {"type": kind, "dst": dst}
        if payload is not None:
            message["payload"] = payload
        try:
            await ws.send_str(json.dumps(message))
        except (ConnectionError, RuntimeError) as err:
            _LOGGER.warning("cannot send %s to %s: %s", kind, dst, err)
            return False
        return True

    async def _run(self) -> None:
        delay = BACKOFF_FIRST
        loop = asyncio.get_running_loop()
        while True:
            began = loop.time()
            try:
                await self._connect_once()
                reason = "closed by the registrar"
            except RegistrarError as err:
                self.status = "error"
                reason = str(err)
            except (aiohttp.ClientError, OSError, TimeoutError) as err:
                reason = f"{type(err).__name__}: {err}"
            self.connected.clear()
            self.room_id = None
            if self.status != "error":
                self.status = "connecting"
            if loop.time() - began > STABLE_AFTER:
                delay = BACKOFF_FIRST
            wait = delay * (0.5 + random.random())  # noqa: S311 (jitter, not crypto)
            _LOGGER.warning("registrar %s: %s; reconnecting in %.1f s", self._ws, reason, wait)
            await asyncio.sleep(wait)
            delay = min(delay * 2, BACKOFF_MAX)

    async def _connect_once(self) -> None:
        assert self._session is not None
        ident = self.identity
        params = {"key": self.key, "id": ident.id, "token": ident.token, "version": CLIENT_VERSION}
        async with self._session.ws_connect(self._ws, params=params, heartbeat=None) as ws:
            self._ws_conn = ws
            heartbeat = asyncio.create_task(self._heartbeat(ws), name="peerjs-heartbeat")
            # A same-token takeover gets no OPEN; the registration still works after it.
            opener = asyncio.get_running_loop().call_later(OPEN_WAIT, self._opened, "takeover")
            try:
                async for frame in ws:
                    if frame.type != aiohttp.WSMsgType.TEXT:
                        continue
                    try:
                        message = json.loads(frame.data)
                    except ValueError:
                        _LOGGER.warning("ignoring a non-JSON frame from the registrar")
                        continue
                    if isinstance(message, dict):
                        self._handle(message)
            finally:
                opener.cancel()
                heartbeat.cancel()
                self._ws_conn = None

    def _handle(self, message: Message) -> None:
        kind = message.get("type")
        payload = message.get("payload")
        msg = payload.get("msg") if isinstance(payload, dict) else None
        if kind == "OPEN":
            self._opened("open")
        elif kind == "ID-TAKEN":
            raise RegistrarError(f"peer id {self.identity.id} is taken by another token")
        elif kind in ("ERROR", "INVALID-KEY"):
            raise RegistrarError(f"registrar error: {msg or kind}")
        elif kind in RELAYED:
            try:
                self._on_message(message)
            except Exception:  # a stranger's message must never end the registration
                _LOGGER.exception("error handling a %s message", kind)
        else:
            _LOGGER.debug("ignoring registrar message %r", kind)

    def _opened(self, how: str) -> None:
        if self.connected.is_set():
            return
        self.status = "connected"
        self.connected.set()
        _LOGGER.info("registered at %s as %s (%s)", self._ws, self.identity.id, how)
        self._room_task = asyncio.create_task(self._join_room(), name="peerjs-room")

    async def _heartbeat(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            while not ws.closed:
                await asyncio.sleep(HEARTBEAT_SECONDS)
                await ws.send_str('{"type":"HEARTBEAT"}')

    async def _join_room(self) -> None:
        """Join the plug-and-play room; a registrar without rooms (404) is fine."""
        assert self._session is not None
        try:
            async with self._session.get(self.room_base + "id") as resp:
                if resp.status == 404:
                    _LOGGER.info("registrar has no plug-and-play rooms; LAN discovery is off")
                    return
                resp.raise_for_status()
                room_id = str((await resp.json(content_type=None))["roomId"])
            async with self._session.post(f"{self.room_base}{quote(room_id)}/join") as resp:
                resp.raise_for_status()
            self.room_id = room_id
            _LOGGER.info("joined plug-and-play room %s…", room_id[:8])
        except (aiohttp.ClientError, OSError, TimeoutError, ValueError, KeyError, TypeError) as err:
            _LOGGER.warning("cannot join the plug-and-play room: %s", err)
