"""The edge's WebRTC peer: answers PeerJS data connections and runs a `Session` on each.

PeerJS payload shapes: ../shared/reference/peerjs-protocol.md, section B. The edge never offers.
Media calls are refused (live video rides the DataChannel as `POST /cameras/{id}/webrtc`), as is
any offer it will not answer, with an EXPIRE to the caller: PeerJS has no per-connection refusal,
and npm peerjs 1.5 turns an EXPIRE into a `peer-unavailable` error at once, where an unanswered
offer leaves the call waiting forever. (LEAVE would close every connection the caller has with
this edge, its DataChannel included.)

Slots: at most `MAX_CONNECTIONS` connections, `MAX_PER_SOURCE` per caller (PeerJS `src`), and at
most `MAX_UNAUTHENTICATED` that have not yet authenticated as a paired device. An offer that finds
no room displaces the oldest unauthenticated connection; another caller's authenticated sessions
are never displaced, so a stranger's offers, from however many ids, cannot keep a paired app
out. A caller at its own limit displaces its own oldest connection, authenticated or not: a page
reload leaves the old one open here until ICE notices it is gone (about 30 s), and an app
reloaded a few times in that while was refused. An offer that fails, for whatever reason, frees
its slot at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any, Final

from aiortc import (
    RTCConfiguration,
    RTCDataChannel,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.sdp import candidate_from_sdp

from ..api.auth import load_edge_id, load_token
from ..bus import EventBus
from ..config import ApiConfig, EdgeConfig
from ..devices import DeviceRegistry
from . import pacing
from .certificate import (
    SDP_ERRORS,
    fingerprint_of,
    load_certificate,
    remote_fingerprint,
    use_certificate,
)
from .rpc import ApiClient
from .session import Context, Session
from .signaling import Message, Signaling, load_identity
from .udp import enlarge_udp_buffers

_LOGGER = logging.getLogger(__name__)

MAX_CONNECTIONS: Final = 16
MAX_UNAUTHENTICATED: Final = 8
MAX_PER_SOURCE: Final = 4
MAX_PENDING_CANDIDATES: Final = 64
CHANNEL_WAIT: Final = 10.0


def local_api_url(api: ApiConfig) -> str:
    """Where this process's own local API answers (loopback when it listens on every address)."""
    host = "127.0.0.1" if api.host in ("0.0.0.0", "", "127.0.0.1", "localhost") else api.host  # noqa: S104
    if host == "::":
        host = "::1"
    return f"http://[{host}]:{api.port}" if ":" in host else f"http://{host}:{api.port}"


@dataclass(slots=True, eq=False)
class Connection:
    """One PeerJS data connection: the task that answers and serves it, its RTCPeerConnection,
    the candidates that came early and, once its DataChannel is open, its `Session`."""

    src: str
    connection_id: str
    task: asyncio.Task[None] | None = None
    pc: RTCPeerConnection | None = None
    answered: bool = False
    session: Session | None = None
    pending: list[dict[str, Any]] = field(default_factory=list)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def key(self) -> tuple[str, str]:
        """Its key in the peer's table: (src, connectionId)."""
        return (self.src, self.connection_id)

    @property
    def authenticated(self) -> bool:
        """Whether a paired device proved its key (or paired) on it."""
        return self.session is not None and self.session.device is not None


class RemotePeer:
    """Registers with the registrar and serves paired devices over DataChannels."""

    def __init__(
        self,
        config: EdgeConfig,
        *,
        name: str,
        devices: DeviceRegistry,
        bus: EventBus,
    ) -> None:
        if config.registrar is None:
            msg = "remote access needs a registrar in the configuration"
            raise ValueError(msg)
        self.identity = load_identity(config.data_dir, load_edge_id(config.data_dir))
        self.certificate = load_certificate(config.data_dir)
        self.fingerprint = fingerprint_of(self.certificate)
        self._ice = [RTCIceServer(**server) for server in config.ice_servers]
        self._context = Context(
            edge_id=self.identity.id,
            name=name,
            fingerprint=self.fingerprint,
            devices=devices,
            api=ApiClient(local_api_url(config.api), load_token(config.data_dir)),
            bus=bus,
        )
        self.signaling = Signaling(
            config.registrar.url, config.registrar.key, self.identity, self._on_signal
        )
        self._connections: dict[tuple[str, str], Connection] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def peer_id(self) -> str:
        """The edge's PeerJS id (`pw-edge-…`)."""
        return self.identity.id

    @property
    def registrar_status(self) -> str:
        """`connecting`, `connected`, `error` or `stopped`."""
        return self.signaling.status

    async def start(self) -> None:
        """Start registering (returns at once; the registrar may be down)."""
        await self._context.api.start()
        await self.signaling.start()
        _LOGGER.info("remote access: peer %s, DTLS %s", self.peer_id, self.fingerprint)

    async def stop(self) -> None:
        """Close every connection and the registration."""
        await self.signaling.stop()
        for conn in tuple(self._connections.values()):
            self._drop(conn)
        for task in tuple(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._context.api.close()

    def _spawn(self, coro: Any, name: str) -> asyncio.Task[None]:  # noqa: ANN401
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # --- signaling ---------------------------------------------------------------------------

    def _on_signal(self, message: Message) -> None:
        kind = message.get("type")
        src = message.get("src")
        payload = message.get("payload")
        if not isinstance(src, str):
            return
        if kind == "LEAVE":
            for conn in [c for c in self._connections.values() if c.src == src]:
                self._drop(conn)
            return
        if kind == "EXPIRE":
            _LOGGER.debug("registrar: messages to %s expired", src)
            return
        if not isinstance(payload, dict) or not isinstance(payload.get("connectionId"), str):
            _LOGGER.debug("ignoring %s from %s without a connectionId", kind, src)
            return
        key = (src, payload["connectionId"])
        conn = self._connections.get(key)
        if kind == "OFFER" and conn is None:
            refusal = self._refusal(payload) or self._make_room(src)
            if refusal:
                _LOGGER.info("refusing the offer of %s: %s", src, refusal)
                self._spawn(self._refuse(src), "remote-refuse")
                return
            conn = self._connections[key] = Connection(src, key[1])
            conn.task = self._spawn(self._answer(conn, payload), "remote-offer")
        elif kind == "CANDIDATE" and conn is not None:
            if conn.pc is None or conn.pc.remoteDescription is None:
                if len(conn.pending) < MAX_PENDING_CANDIDATES:
                    conn.pending.append(payload)
            else:
                self._add_candidate(conn, payload)

    def _refusal(self, payload: dict[str, Any]) -> str | None:
        """Why an OFFER is not answered, or None."""
        if payload.get("type") != "data":
            return f"{payload.get('type')!r} connections are not served (live video rides RPC)"
        if payload.get("serialization") != "raw":
            return "serialization must be raw"
        return None

    def _make_room(self, src: str) -> str | None:
        """Make room for an offer of `src` by dropping the oldest unauthenticated connection, or
        when `src` has `MAX_PER_SOURCE` its own oldest (unauthenticated first); or say why the
        offer is refused."""
        own = [c for c in self._connections.values() if c.src == src]
        if len(own) >= MAX_PER_SOURCE:
            victim = next((c for c in own if not c.authenticated), own[0])
        else:
            unauthenticated = [c for c in self._connections.values() if not c.authenticated]
            full = len(self._connections) >= MAX_CONNECTIONS
            if not full and len(unauthenticated) < MAX_UNAUTHENTICATED:
                return None
            if not unauthenticated:
                return f"{len(self._connections)} authenticated sessions are open"
            victim = unauthenticated[0]
        _LOGGER.debug("dropping the oldest connection of %s for a new offer", victim.src)
        self._drop(victim)
        return None

    async def _refuse(self, src: str) -> None:
        """Tell the caller at once that its offer gets no answer."""
        await self.signaling.send("EXPIRE", src)

    def _add_candidate(self, conn: Connection, payload: dict[str, Any]) -> None:
        """Add a remote candidate in the background (mDNS names can take a second)."""
        candidate = payload.get("candidate")
        if not isinstance(candidate, dict) or not isinstance(candidate.get("candidate"), str):
            return
        text: str = candidate["candidate"]
        if not text:
            return
        try:
            ice = candidate_from_sdp(text.removeprefix("candidate:"))
        except SDP_ERRORS:
            _LOGGER.debug("ignoring malformed candidate from %s", conn.src)
            return
        ice.sdpMid = candidate.get("sdpMid")
        ice.sdpMLineIndex = candidate.get("sdpMLineIndex")
        pc = conn.pc
        assert pc is not None

        async def add() -> None:
            with contextlib.suppress(Exception):
                await pc.addIceCandidate(ice)

        task = asyncio.create_task(add(), name="remote-candidate")
        conn.tasks.add(task)
        task.add_done_callback(conn.tasks.discard)

    async def _answer(self, conn: Connection, payload: dict[str, Any]) -> None:
        """Answer an OFFER and serve its session; whatever happens, free its slot at the end.

        An offer that fails before its ANSWER was sent gets an EXPIRE.
        """
        try:
            async with asyncio.timeout(CHANNEL_WAIT):
                channel, fp_app = await self._connect(conn, payload)
            conn.session = Session(channel, self._context, fp_app)
            await conn.session.run()
        except Exception as err:  # aiortc raises any kind for an offer it cannot use
            _LOGGER.info(
                "data connection from %s failed: %s: %s",
                conn.src,
                type(err).__name__,
                err,
                exc_info=_LOGGER.isEnabledFor(logging.DEBUG),
            )
            if not conn.answered:
                await self._refuse(conn.src)
        finally:
            await self._close(conn)

    async def _connect(
        self, conn: Connection, payload: dict[str, Any]
    ) -> tuple[RTCDataChannel, str]:
        """Send the ANSWER, wait for the app's DataChannel; return it and the app's fingerprint."""
        sdp = payload.get("sdp")
        offer = sdp.get("sdp") if isinstance(sdp, dict) else None
        if not isinstance(offer, str):
            raise ValueError("the offer has no SDP")
        fp_app = remote_fingerprint(offer)
        pc = conn.pc = RTCPeerConnection(RTCConfiguration(iceServers=self._ice))
        use_certificate(pc, self.certificate)
        channel_ready: asyncio.Future[RTCDataChannel] = asyncio.get_running_loop().create_future()

        @pc.on("datachannel")
        def on_datachannel(channel: RTCDataChannel) -> None:
            if not channel_ready.done():
                channel_ready.set_result(channel)
            else:
                channel.close()

        @pc.on("connectionstatechange")
        def on_state() -> None:
            if pc.connectionState in ("failed", "closed"):
                self._drop(conn)

        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        pacing.install(pc)
        for early in conn.pending:
            self._add_candidate(conn, early)
        conn.pending.clear()
        await pc.setLocalDescription(await pc.createAnswer())
        enlarge_udp_buffers(pc)
        answer = {
            "sdp": {"type": "answer", "sdp": pc.localDescription.sdp},
            "type": "data",
            "connectionId": conn.connection_id,
        }
        if not await self.signaling.send("ANSWER", conn.src, answer):
            raise ConnectionError("registrar unreachable")
        conn.answered = True
        return await channel_ready, fp_app

    def _drop(self, conn: Connection) -> None:
        """Free the connection's slot now and end its task, which closes the connection."""
        if self._connections.get(conn.key) is conn:
            del self._connections[conn.key]
            if conn.task is not None:
                conn.task.cancel()

    async def _close(self, conn: Connection) -> None:
        if self._connections.get(conn.key) is conn:
            del self._connections[conn.key]
        for task in tuple(conn.tasks):
            task.cancel()
        if conn.pc is not None:
            # aiortc may be closing it already (remote hung up); a cancelled waiter would cancel
            # aiortc's own close future, so the close is shielded.
            await asyncio.shield(_close_quietly(conn.pc))


async def _close_quietly(pc: RTCPeerConnection) -> None:
    """Close `pc`; aiortc's close can trip over an offer it applied only in part."""
    with contextlib.suppress(Exception):
        await pc.close()
