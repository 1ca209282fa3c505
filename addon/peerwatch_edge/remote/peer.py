"""The edge's WebRTC peer: answers PeerJS data connections and runs a `Session` on each.

PeerJS payload shapes: ../shared/reference/peerjs-protocol.md, section B. The edge never offers.
Media calls are refused (live video rides the DataChannel as `POST /cameras/{id}/webrtc`), as is
any offer it will not answer, with an EXPIRE to the caller: PeerJS has no per-connection refusal,
and npm peerjs 1.5 turns an EXPIRE into a `peer-unavailable` error at once, where an unanswered
offer leaves the call waiting forever. (LEAVE would close every connection the caller has with
this edge, its DataChannel included.)
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
from aiortc.exceptions import (
    InternalError,
    InvalidAccessError,
    InvalidStateError,
    OperationError,
)
from aiortc.sdp import candidate_from_sdp

from ..api.auth import load_edge_id, load_token
from ..bus import EventBus
from ..config import ApiConfig, EdgeConfig
from ..devices import DeviceRegistry
from .certificate import fingerprint_of, load_certificate, remote_fingerprint, use_certificate
from .rpc import ApiClient
from .session import Context, Session
from .signaling import Message, Signaling, load_identity
from .udp import enlarge_udp_buffers

_LOGGER = logging.getLogger(__name__)

MAX_CONNECTIONS: Final = 16
MAX_PENDING_CANDIDATES: Final = 64
CHANNEL_WAIT: Final = 15.0


def local_api_url(api: ApiConfig) -> str:
    """Where this process's own local API answers (loopback when it listens on every address)."""
    host = "127.0.0.1" if api.host in ("0.0.0.0", "", "127.0.0.1", "localhost") else api.host  # noqa: S104
    if host == "::":
        host = "::1"
    return f"http://[{host}]:{api.port}" if ":" in host else f"http://{host}:{api.port}"


@dataclass(slots=True, eq=False)
class Connection:
    """One PeerJS data connection: its RTCPeerConnection and the candidates that came early."""

    src: str
    connection_id: str
    pc: RTCPeerConnection | None = None
    pending: list[dict[str, Any]] = field(default_factory=list)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)


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

    @property
    def sessions(self) -> int:
        """Open data connections."""
        return len(self._connections)

    async def start(self) -> None:
        """Start registering (returns at once; the registrar may be down)."""
        await self._context.api.start()
        await self.signaling.start()
        _LOGGER.info("remote access: peer %s, DTLS %s", self.peer_id, self.fingerprint)

    async def stop(self) -> None:
        """Close every connection and the registration."""
        await self.signaling.stop()
        await asyncio.gather(
            *(self._close(conn) for conn in tuple(self._connections.values())),
            return_exceptions=True,
        )
        for task in tuple(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._context.api.close()

    def _spawn(self, coro: Any, name: str) -> None:  # noqa: ANN401
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- signaling ---------------------------------------------------------------------------

    def _on_signal(self, message: Message) -> None:
        kind = message.get("type")
        src = message.get("src")
        payload = message.get("payload")
        if not isinstance(src, str):
            return
        if kind == "LEAVE":
            for conn in [c for c in self._connections.values() if c.src == src]:
                self._spawn(self._close(conn), "remote-leave")
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
            refusal = self._refusal(payload)
            if refusal:
                _LOGGER.info("refusing the offer of %s: %s", src, refusal)
                self._spawn(self._refuse(src), "remote-refuse")
                return
            conn = self._connections[key] = Connection(src, key[1])
            self._spawn(self._answer(conn, payload), "remote-offer")
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
        if len(self._connections) >= MAX_CONNECTIONS:
            return f"{MAX_CONNECTIONS} connections are open"
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
        except (ValueError, IndexError):
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
        src = conn.src
        sdp = payload.get("sdp")
        offer = sdp.get("sdp") if isinstance(sdp, dict) else None
        try:
            if not isinstance(offer, str):
                raise ValueError("the offer has no SDP")
            fp_app = remote_fingerprint(offer)
        except ValueError as err:
            _LOGGER.info("refusing the offer of %s: %s", src, err)
            await self._close(conn)
            await self._refuse(src)
            return
        pc = RTCPeerConnection(RTCConfiguration(iceServers=self._ice))
        use_certificate(pc, self.certificate)
        conn.pc = pc
        connection_id = conn.connection_id
        channel_ready: asyncio.Future[RTCDataChannel] = asyncio.get_running_loop().create_future()

        @pc.on("datachannel")
        def on_datachannel(channel: RTCDataChannel) -> None:
            if not channel_ready.done():
                channel_ready.set_result(channel)
            else:
                channel.close()

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState in ("failed", "closed"):
                await self._close(conn)

        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
            for early in conn.pending:
                self._add_candidate(conn, early)
            conn.pending.clear()
            await pc.setLocalDescription(await pc.createAnswer())
            enlarge_udp_buffers(pc)
            answer = {
                "sdp": {"type": "answer", "sdp": pc.localDescription.sdp},
                "type": "data",
                "connectionId": connection_id,
            }
            if not await self.signaling.send("ANSWER", src, answer):
                raise ConnectionError("registrar unreachable")
            channel = await asyncio.wait_for(channel_ready, CHANNEL_WAIT)
        except (
            ValueError,
            ConnectionError,
            TimeoutError,
            InternalError,
            InvalidAccessError,
            InvalidStateError,
            OperationError,
        ) as err:
            _LOGGER.info("data connection from %s failed: %s", src, err or type(err).__name__)
            await self._close(conn)
            return
        await Session(channel, self._context, fp_app).run()
        await self._close(conn)

    async def _close(self, conn: Connection) -> None:
        if self._connections.get((conn.src, conn.connection_id)) is conn:
            del self._connections[(conn.src, conn.connection_id)]
        for task in tuple(conn.tasks):
            task.cancel()
        if conn.pc is not None:
            # aiortc may be closing it already (remote hung up); a cancelled waiter would cancel
            # aiortc's own close future, so the close is shielded.
            await asyncio.shield(conn.pc.close())
