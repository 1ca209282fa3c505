"""The PWA's side of docs/remote-protocol.md in Python (aiortc), for tests and the benchmark.

A real PeerJS client (JSON over the registrar's WebSocket, HEARTBEATs) and a real aiortc
DataChannel offered the way npm `peerjs` 1.5 does (`label "peerwatch"`, `serialization "raw"`,
`reliable`), with the hello/pair/auth handshake and the RPC framing.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import secrets
import struct
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp
from aiortc import RTCDataChannel, RTCPeerConnection, RTCSessionDescription
from aiortc.rtcdtlstransport import RTCCertificate

from peerwatch_edge.remote.certificate import fingerprint_of, remote_fingerprint, use_certificate
from peerwatch_edge.remote.udp import enlarge_udp_buffers

type Frame = dict[str, Any]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def hmac256(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def pairing_key(code: str, edge_nonce_b64: str) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", code.encode(), base64.b64decode(edge_nonce_b64), 200_000)


class Signaler(Protocol):
    """Carries an OFFER to a peer and brings its ANSWER back (a registrar, or an attacker)."""

    async def exchange(self, dst: str, offer: Frame) -> Frame: ...


class Refused(ConnectionError):
    """The peer answered an OFFER with an EXPIRE (npm peerjs: error `peer-unavailable`)."""


class RegistrarClient:
    """A PeerJS client registered at a registrar; routes ANSWERs by connectionId and fails the
    offers pending to a peer that sends EXPIRE."""

    def __init__(self, url: str, peer_id: str | None = None, key: str = "peerjs") -> None:
        self.url = url.rstrip("/")
        self.key = key
        self.peer_id = peer_id or f"pw-app-{secrets.token_hex(16)}"
        self.token = secrets.token_hex(8)
        self.answers: dict[str, tuple[str, asyncio.Future[Frame]]] = {}
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def open(self) -> RegistrarClient:
        self._session = aiohttp.ClientSession()
        ws_url = self.url.replace("http", "ws", 1) + "/peerjs"
        params = {"key": self.key, "id": self.peer_id, "token": self.token, "version": "1.5.5"}
        self._ws = await self._session.ws_connect(ws_url, params=params)
        first = await asyncio.wait_for(self._ws.receive_json(), 30)
        assert first == {"type": "OPEN"}, first
        self._tasks = [asyncio.create_task(self._read()), asyncio.create_task(self._beat())]
        return self

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._ws is not None:
            await self._ws.close()
        if self._session is not None:
            await self._session.close()

    async def __aenter__(self) -> RegistrarClient:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def send(self, kind: str, dst: str, payload: Frame) -> None:
        assert self._ws is not None
        await self._ws.send_json({"type": kind, "dst": dst, "payload": payload})

    async def exchange(self, dst: str, offer: Frame) -> Frame:
        """Send an OFFER payload to `dst` and wait for its ANSWER payload."""
        connection_id = offer["connectionId"]
        answer: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()
        self.answers[connection_id] = (dst, answer)
        try:
            await self.send("OFFER", dst, offer)
            return await answer
        finally:
            self.answers.pop(connection_id, None)

    async def room_members(self) -> list[str]:
        """Join our plug-and-play room and return its members."""
        assert self._session is not None
        base = f"{self.url}/{self.key}/{self.peer_id}/{self.token}/room/"
        async with self._session.get(base + "id") as resp:
            room = (await resp.json())["roomId"]
        async with self._session.post(f"{base}{room}/join") as resp:
            return list((await resp.json())["clientsIds"])

    async def _read(self) -> None:
        assert self._ws is not None
        async for message in self._ws:
            data = json.loads(message.data)
            payload = data.get("payload") or {}
            if data["type"] == "ANSWER" and payload.get("connectionId") in self.answers:
                _, waiter = self.answers[payload["connectionId"]]
                if not waiter.done():
                    waiter.set_result(payload)
            elif data["type"] == "EXPIRE":
                for dst, waiter in self.answers.values():
                    if dst == data.get("src") and not waiter.done():
                        waiter.set_exception(Refused(f"EXPIRE from {dst}"))

    async def _beat(self) -> None:
        assert self._ws is not None
        while True:
            await asyncio.sleep(5)  # a period, as npm peerjs beats
            await self._ws.send_json({"type": "HEARTBEAT"})


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class _Call:
    future: asyncio.Future[Response]
    head: Frame | None = None
    parts: list[bytes] = field(default_factory=list)
    received: int = 0


class EdgeLink:
    """One DataChannel to an edge, offered like npm peerjs does, speaking the Peerwatch protocol."""

    def __init__(self, pc: RTCPeerConnection, channel: RTCDataChannel, fp_app: str) -> None:
        self.pc = pc
        self.channel = channel
        self.fp_app = fp_app
        self.fp_edge = ""
        self.hello: Frame = {}
        self.inbox: asyncio.Queue[Frame] = asyncio.Queue()
        self.frames: list[Frame] = []  # every text frame received, as sent
        self.pushes: asyncio.Queue[Frame] = asyncio.Queue()
        self.closed = asyncio.Event()
        self.binary_before_ready = 0
        self.ready = False
        self.device: tuple[str, bytes] | None = None
        self.cancelled: set[int] = set()
        self.late_bytes = 0
        self.body_bytes = 0
        """Body bytes received for requests not cancelled; `body_arrived` is set on each frame."""
        self.body_arrived = asyncio.Event()
        self._calls: dict[int, _Call] = {}
        self._next_id = 1
        channel.on("message", self._on_message)
        channel.on("close", self._on_close)

    @classmethod
    async def open(
        cls,
        registrar: Signaler,
        edge_id: str,
        *,
        certificate: RTCCertificate | None = None,
        serialization: str = "raw",
        kind: str = "data",
        wait: float = 30.0,
    ) -> EdgeLink:
        pc = RTCPeerConnection()
        certificate = certificate or RTCCertificate.generateCertificate()
        use_certificate(pc, certificate)
        channel = pc.createDataChannel("peerwatch", ordered=True)
        link = cls(pc, channel, fingerprint_of(certificate))
        opened = asyncio.Event()
        channel.on("open", opened.set)
        await pc.setLocalDescription(await pc.createOffer())
        enlarge_udp_buffers(pc)
        offer = {
            "sdp": {"type": "offer", "sdp": pc.localDescription.sdp},
            "type": kind,
            "connectionId": f"dc_{secrets.token_hex(8)}",
            "label": "peerwatch",
            "reliable": True,
            "serialization": serialization,
        }
        try:
            async with asyncio.timeout(wait):
                reply = await registrar.exchange(edge_id, offer)
                sdp = reply["sdp"]["sdp"]
                link.fp_edge = remote_fingerprint(sdp)
                await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
                await opened.wait()
                link.hello = await link.next()
        except BaseException:
            await pc.close()
            raise
        return link

    # --- frames ------------------------------------------------------------------------------

    def _on_message(self, data: str | bytes) -> None:
        if isinstance(data, bytes):
            if not self.ready:
                self.binary_before_ready += 1
                return
            (request_id,) = struct.unpack(">I", data[:4])
            if request_id in self.cancelled:
                self.late_bytes += len(data) - 4
                return
            call = self._calls[request_id]
            call.parts.append(data[4:])
            call.received += len(data) - 4
            self.body_bytes += len(data) - 4
            self.body_arrived.set()
            assert len(data) - 4 <= 16 * 1024
            self._maybe_done(request_id)
            return
        frame = json.loads(data)
        self.frames.append(frame)
        if self.ready and frame.get("type") == "response":
            if frame["id"] in self.cancelled:
                return
            call = self._calls[frame["id"]]
            assert call.head is None
            call.head = frame
            self._maybe_done(frame["id"])
        elif self.ready and frame.get("type") == "push":
            self.pushes.put_nowait(frame["message"])
        else:
            self.inbox.put_nowait(frame)

    def _maybe_done(self, request_id: int) -> None:
        call = self._calls[request_id]
        if call.head is not None and call.received >= call.head["size"]:
            del self._calls[request_id]
            assert call.received == call.head["size"]
            response = Response(call.head["status"], call.head["headers"], b"".join(call.parts))
            call.future.set_result(response)

    def _on_close(self) -> None:
        self.closed.set()
        for call in self._calls.values():
            if not call.future.done():
                call.future.set_exception(ConnectionError("channel closed"))

    async def next(self, wait: float = 30.0) -> Frame:
        """The next text frame that is not a response or push."""
        return await asyncio.wait_for(self.inbox.get(), wait)

    def send(self, frame: Frame) -> None:
        self.channel.send(json.dumps(frame))

    async def wait_closed(self, wait: float = 30.0) -> None:
        await asyncio.wait_for(self.closed.wait(), wait)

    async def close(self) -> None:
        self.channel.close()
        await self.pc.close()

    # --- handshake ---------------------------------------------------------------------------

    def transcript(self, kind: str, app_nonce: str, fp_app: str | None = None) -> str:
        fp = fp_app or self.fp_app
        return f"peerwatch-{kind}-v1|{self.hello['nonce']}|{app_nonce}|{fp}|{self.fp_edge}"

    async def pair(self, code: str, name: str = "Test phone") -> Frame:
        """Send `pair`; on `paired` check the edge's MAC and become ready."""
        app_nonce = b64(secrets.token_bytes(32))
        text = self.transcript("pair", app_nonce)
        key = await asyncio.to_thread(pairing_key, code, self.hello["nonce"])
        self.send(
            {
                "type": "pair",
                "device_name": name,
                "nonce": app_nonce,
                "mac": b64(hmac256(key, text)),
            }
        )
        reply = await self.next()
        if reply["type"] == "paired":
            expected = hmac256(key, f"peerwatch-paired-v1|{text}|{reply['device_id']}")
            assert base64.b64decode(reply["mac"]) == expected, "the edge's paired MAC is wrong"
            self.device = (reply["device_id"], base64.b64decode(reply["device_key"]))
            self.ready = True
        return reply

    def auth_frame(self, device_id: str, key: bytes, *, fp_app: str | None = None) -> Frame:
        app_nonce = b64(secrets.token_bytes(32))
        text = self.transcript("auth", app_nonce, fp_app)
        return {
            "type": "auth",
            "device_id": device_id,
            "nonce": app_nonce,
            "mac": b64(hmac256(key, text)),
        }

    async def auth(self, device_id: str, key: bytes, *, fp_app: str | None = None) -> Frame:
        """Send `auth`; on `auth_ok` check the edge's MAC (mutual) and become ready."""
        frame = self.auth_frame(device_id, key, fp_app=fp_app)
        self.send(frame)
        reply = await self.next()
        if reply["type"] == "auth_ok":
            text = self.transcript("auth", frame["nonce"], fp_app)
            expected = hmac256(key, f"peerwatch-edge-v1|{text}")
            assert base64.b64decode(reply["mac"]) == expected, "the edge's auth MAC is wrong"
            self.ready = True
        return reply

    # --- RPC ---------------------------------------------------------------------------------

    def begin(
        self, method: str, path: str, body: Any = None, headers: dict[str, Any] | None = None
    ) -> tuple[int, asyncio.Future[Response]]:
        """Send a request (with request `headers` when given); return its id and the future of
        its response."""
        request_id = self._next_id
        self._next_id += 1
        future: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        self._calls[request_id] = _Call(future)
        frame = {"type": "request", "id": request_id, "method": method, "path": path}
        self.send({**frame, "body": body, **({"headers": headers} if headers is not None else {})})
        return request_id, future

    async def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, Any] | None = None
    ) -> Response:
        _, future = self.begin(method, path, body, headers)
        return await asyncio.wait_for(future, 30)

    def cancel(self, request_id: int) -> None:
        """Send `cancel`; frames still arriving for it are counted in `late_bytes`."""
        call = self._calls.pop(request_id)
        call.future.cancel()
        self.cancelled.add(request_id)
        self.send({"type": "cancel", "id": request_id})


@contextlib.asynccontextmanager
async def linked(registrar: Signaler, edge_id: str, **kwargs: Any) -> Any:
    """`EdgeLink.open` as a context manager that closes the link."""
    link = await EdgeLink.open(registrar, edge_id, **kwargs)
    try:
        yield link
    finally:
        await link.close()
