"""One DataChannel's protocol (docs/remote-protocol.md): hello, auth or pair, then RPC and pushes.

Nothing but `hello` is sent before the peer proves a device key (or a pairing code) with an
HMAC bound to both DTLS fingerprints as this edge sees them. Responses stream as binary frames
`[u32 id][≤ 16 KiB]`, interleaved across requests and paced by the channel's buffered amount.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import logging
import secrets
import struct
from dataclasses import dataclass
from typing import Any, Final

from aiortc import RTCDataChannel

from ..bus import EventBus, Subscription
from ..devices import Device, DeviceRegistry, PairingError
from .rpc import ApiClient, RequestRefused

_LOGGER = logging.getLogger(__name__)

VERSION: Final = 1
HANDSHAKE_SECONDS: Final = 10.0
NONCE_BYTES: Final = 32
PBKDF2_ITERATIONS: Final = 200_000
MAX_TEXT: Final = 64 * 1024
MAX_IN_FLIGHT: Final = 32
MAX_ID: Final = 0xFFFFFFFF
HIGH_WATER: Final = 1024 * 1024
LOW_WATER: Final = 256 * 1024
CLOSE_GRACE: Final = 1.0

type Frame = dict[str, Any]


class ProtocolError(Exception):
    """The peer broke the protocol; `code` goes back in an `error` frame, then we close."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def b64(data: bytes) -> str:
    """Standard base64 with padding."""
    return base64.b64encode(data).decode("ascii")


def unb64(value: Any, size: int, what: str) -> bytes:  # noqa: ANN401
    """Decode a base64 field of exactly `size` bytes, or raise `bad_request`."""
    try:
        data = base64.b64decode(value, validate=True) if isinstance(value, str) else b""
    except (binascii.Error, ValueError):
        data = b""
    if len(data) != size:
        raise ProtocolError("bad_request", f"{what}: must be base64 of {size} bytes")
    return data


def mac(key: bytes, text: str) -> bytes:
    """HMAC-SHA256 of a UTF-8 string."""
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def pairing_key(code: str, edge_nonce: bytes) -> bytes:
    """K = PBKDF2-HMAC-SHA256(code, salt = edge nonce, 200 000 iterations, 32 bytes)."""
    return hashlib.pbkdf2_hmac("sha256", code.encode(), edge_nonce, PBKDF2_ITERATIONS, 32)


def transcript(kind: str, edge_nonce: str, app_nonce: str, fp_app: str, fp_edge: str) -> str:
    """`T` (kind "auth") or `P` (kind "pair"): nonces as sent, fingerprints in FP form."""
    return f"peerwatch-{kind}-v1|{edge_nonce}|{app_nonce}|{fp_app}|{fp_edge}"


@dataclass(slots=True, frozen=True)
class Context:
    """What every session of this edge shares."""

    edge_id: str
    name: str
    fingerprint: str
    devices: DeviceRegistry
    api: ApiClient
    bus: EventBus


class Session:
    """The protocol on one DataChannel, from `hello` until the channel closes."""

    def __init__(self, channel: RTCDataChannel, context: Context, fp_app: str) -> None:
        self.channel = channel
        self.ctx = context
        self.fp_app = fp_app
        self.device: Device | None = None
        self._nonce = b64(secrets.token_bytes(NONCE_BYTES))
        self._inbox: asyncio.Queue[str | bytes | None] = asyncio.Queue()
        self._requests: dict[int, asyncio.Task[None]] = {}
        self._drained = asyncio.Event()
        self._drained.set()
        self._closed = asyncio.Event()
        channel.bufferedAmountLowThreshold = LOW_WATER
        channel.on("message", self._inbox.put_nowait)
        channel.on("bufferedamountlow", self._drained.set)
        channel.on("close", self._on_close)

    @property
    def closed(self) -> bool:
        """Whether the channel is closed (by either side)."""
        return self._closed.is_set()

    def _on_close(self) -> None:
        self._closed.set()
        self._inbox.put_nowait(None)

    async def run(self) -> None:
        """Greet, authenticate, then serve until the channel closes; never raises."""
        try:
            self._send_json(
                {
                    "type": "hello",
                    "version": VERSION,
                    "edge_id": self.ctx.edge_id,
                    "name": self.ctx.name,
                    "nonce": self._nonce,
                    "pairing": self.ctx.devices.pairing_window() is not None,
                }
            )
            async with asyncio.timeout(HANDSHAKE_SECONDS) as deadline:
                while self.device is None:
                    await self._handshake(await self._next())
                    # A wrong code leaves the channel open: the owner gets time to retype it.
                    deadline.reschedule(asyncio.get_running_loop().time() + HANDSHAKE_SECONDS)
            await self.ctx.devices.touch(self.device.id)
            await self._serve()
        except ProtocolError as err:
            _LOGGER.info("remote peer refused (%s): %s", err.code, err.message)
            await self._fail(err.code, err.message)
        except TimeoutError:
            _LOGGER.info("remote peer sent no valid handshake in %.0f s", HANDSHAKE_SECONDS)
            await self._fail("timeout", "no valid handshake in time")
        except EOFError:
            pass
        finally:
            await self._cancel_requests()
            self.close()

    def close(self) -> None:
        """Close the channel."""
        if self.channel.readyState not in ("closing", "closed"):
            self.channel.close()
        self._closed.set()

    # --- frames ------------------------------------------------------------------------------

    async def _next(self) -> Frame:
        """The next JSON frame; raises EOFError when the channel closed."""
        data = await self._inbox.get()
        if data is None:
            raise EOFError
        if not isinstance(data, str) or len(data) > MAX_TEXT:
            raise ProtocolError("bad_request", "expected a JSON text frame")
        try:
            frame = json.loads(data)
        except ValueError:
            raise ProtocolError("bad_request", "not JSON") from None
        except RecursionError:
            raise ProtocolError("bad_request", "JSON nested too deeply") from None
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            raise ProtocolError("bad_request", "a frame is a JSON object with a type")
        return frame

    def _send_json(self, frame: Frame) -> None:
        if not self.closed and self.channel.readyState == "open":
            self.channel.send(json.dumps(frame, separators=(",", ":")))

    async def _drain(self) -> None:
        """Wait until the channel's send buffer is below the high-water mark."""
        while self.channel.bufferedAmount > HIGH_WATER and not self.closed:
            self._drained.clear()
            waiters = [
                asyncio.ensure_future(self._drained.wait()),
                asyncio.ensure_future(self._closed.wait()),
            ]
            try:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()
        if self.closed:
            raise EOFError

    async def _fail(self, code: str, message: str) -> None:
        """Send an `error` frame, let it leave, then close."""
        self._send_json({"type": "error", "code": code, "message": message})
        self.channel.bufferedAmountLowThreshold = 0
        self._drained.clear()
        if self.channel.bufferedAmount > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._drained.wait(), CLOSE_GRACE)
        await asyncio.sleep(0.05)
        self.close()

    # --- handshake ---------------------------------------------------------------------------

    async def _handshake(self, frame: Frame) -> None:
        kind = frame["type"]
        if kind == "auth":
            self._auth(frame)
        elif kind == "pair":
            await self._pair(frame)
        else:
            raise ProtocolError("unauthorized", "authenticate first")

    def _auth(self, frame: Frame) -> None:
        device_id = frame.get("device_id")
        app_nonce = frame.get("nonce")
        unb64(app_nonce, NONCE_BYTES, "nonce")
        given = unb64(frame.get("mac"), 32, "mac")
        device = self.ctx.devices.get(device_id) if isinstance(device_id, str) else None
        if device is None:
            raise ProtocolError("unauthorized", "unknown or revoked device")
        text = transcript("auth", self._nonce, app_nonce, self.fp_app, self.ctx.fingerprint)
        if not hmac.compare_digest(mac(device.key, text), given):
            raise ProtocolError("unauthorized", "authentication failed")
        self._send_json(
            {"type": "auth_ok", "mac": b64(mac(device.key, f"peerwatch-edge-v1|{text}"))}
        )
        self.device = device
        _LOGGER.info("device %s (%s) connected", device.id, device.name)

    async def _pair(self, frame: Frame) -> None:
        devices = self.ctx.devices
        app_nonce = frame.get("nonce")
        unb64(app_nonce, NONCE_BYTES, "nonce")
        given = unb64(frame.get("mac"), 32, "mac")
        name = frame.get("device_name")
        if not isinstance(name, str):
            raise ProtocolError("bad_request", "device_name: must be a string")
        window = devices.pairing_window()
        if window is None:
            raise ProtocolError("pairing_closed", "no pairing window is open")
        text = transcript("pair", self._nonce, app_nonce, self.fp_app, self.ctx.fingerprint)
        key = await asyncio.to_thread(pairing_key, window.code, base64.b64decode(self._nonce))
        if devices.pairing_window() is not window:
            raise ProtocolError("pairing_closed", "the pairing window closed")
        if not hmac.compare_digest(mac(key, text), given):
            if devices.record_failed_attempt() == 0:
                raise ProtocolError("too_many_attempts", "too many wrong codes; open a new window")
            self._send_json({"type": "error", "code": "bad_code", "message": "wrong code"})
            return
        try:
            device = await devices.complete_pairing(name)
        except ValueError as err:
            raise ProtocolError("bad_request", str(err)) from None
        except PairingError as err:
            raise ProtocolError("pairing_closed", str(err)) from None
        proof = mac(key, f"peerwatch-paired-v1|{text}|{device.id}")
        self._send_json(
            {
                "type": "paired",
                "device_id": device.id,
                "device_key": b64(device.key),
                "edge_id": self.ctx.edge_id,
                "name": self.ctx.name,
                "mac": b64(proof),
            }
        )
        self.device = device

    # --- RPC and pushes ----------------------------------------------------------------------

    async def _serve(self) -> None:
        async with self.ctx.bus.subscribe() as subscription:
            pusher = asyncio.create_task(self._push(subscription), name="remote-push")
            try:
                while True:
                    self._dispatch(await self._next())
            finally:
                pusher.cancel()
                with contextlib.suppress(asyncio.CancelledError, EOFError):
                    await pusher

    async def _push(self, subscription: Subscription) -> None:
        async for message in subscription:
            await self._drain()
            self._send_json({"type": "push", "message": message})

    def _dispatch(self, frame: Frame) -> None:
        kind = frame["type"]
        request_id = frame.get("id")
        if kind not in ("request", "cancel"):
            raise ProtocolError("bad_request", f"unexpected frame type {kind!r}")
        if not isinstance(request_id, int) or isinstance(request_id, bool):
            raise ProtocolError("bad_request", "id: must be an integer")
        if not 0 <= request_id <= MAX_ID:
            raise ProtocolError("bad_request", "id: must be a u32")
        if kind == "cancel":
            task = self._requests.pop(request_id, None)
            if task is not None:
                task.cancel()
            return
        if request_id in self._requests:
            raise ProtocolError("bad_request", f"id {request_id} is already in flight")
        if len(self._requests) >= MAX_IN_FLIGHT:
            message = f"at most {MAX_IN_FLIGHT} requests in flight"
            work = self._respond_error(
                request_id, RequestRefused(429, "too_many_requests", message)
            )
        else:
            work = self._answer(request_id, frame)
        task = asyncio.create_task(work, name=f"remote-req-{request_id}")
        self._requests[request_id] = task
        task.add_done_callback(lambda _t: self._forget(request_id, task))

    def _forget(self, request_id: int, task: asyncio.Task[None]) -> None:
        if self._requests.get(request_id) is task:
            del self._requests[request_id]

    async def _answer(self, request_id: int, frame: Frame) -> None:
        """Forward one request to the local API and stream its response."""
        started = False
        try:
            async with self.ctx.api.request(
                frame.get("method"), frame.get("path"), frame.get("body"), frame.get("headers")
            ) as resp:
                await self._drain()
                started = True
                self._send_json(
                    {
                        "type": "response",
                        "id": request_id,
                        "status": resp.status,
                        "headers": resp.headers,
                        "size": resp.size,
                    }
                )
                prefix = struct.pack(">I", request_id)
                sent = 0
                async for chunk in resp.chunks:
                    await self._drain()
                    self.channel.send(prefix + chunk)
                    sent += len(chunk)
                if sent != resp.size:
                    _LOGGER.error(
                        "local API sent %d of %d bytes for %s", sent, resp.size, request_id
                    )
                    await self._fail("internal_error", "a response body was cut short")
        except RequestRefused as err:
            if not started:
                await self._respond_error(request_id, err)
            else:
                _LOGGER.error("response %d failed while streaming: %s", request_id, err.message)
                await self._fail("internal_error", "a response body was cut short")
        except EOFError:
            pass

    async def _respond_error(self, request_id: int, err: RequestRefused) -> None:
        body = err.body()
        with contextlib.suppress(EOFError):
            await self._drain()
            self._send_json(
                {
                    "type": "response",
                    "id": request_id,
                    "status": err.status,
                    "headers": {"content-type": "application/json"},
                    "size": len(body),
                }
            )
            self.channel.send(struct.pack(">I", request_id) + body)

    async def _cancel_requests(self) -> None:
        tasks = list(self._requests.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
