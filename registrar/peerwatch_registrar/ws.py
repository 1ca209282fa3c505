"""A lean WebSocket server (RFC 6455) on the event loop's own transports.

One slotted protocol object per socket, no task and no queue while a socket is idle, frames sent
pre-encoded with a synchronous, bounded write. The first request on a connection is read here:
a WebSocket upgrade of the signaling path stays here, anything else is handed, bytes and all, to
the aiohttp request handler that serves the HTTP routes.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from aiohttp._websocket.helpers import websocket_mask

_LOGGER = logging.getLogger(__name__)
_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_HEAD = 8192  # bytes of request line and headers
CLOSE_GRACE = 2.0  # seconds a closing socket waits for the peer's close frame
HANDSHAKE_TIMEOUT = 10.0  # seconds a connection may take to send its first request

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA

CLOSE_OK = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_PROTOCOL = 1002
CLOSE_BAD_DATA = 1007
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009

Task = Coroutine[Any, Any, None]
HttpFactory = Callable[[], asyncio.Protocol]
# Bytes: a frame (or fragmented message) above the first closes the socket (1009); unsent bytes
# above the second pause writing (the socket is stalled); a send that would buffer more than the
# third drops the connection.
Limits = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class Upgrade:
    """The WebSocket upgrade request: path, query, the headers read, the TCP peer's address."""

    path: str
    query: dict[str, str]
    forwarded_for: list[str]
    peer: str | None


def frame(opcode: int, payload: bytes) -> bytes:
    """One unmasked, final server frame."""
    n = len(payload)
    if n < 126:
        return bytes((0x80 | opcode, n)) + payload
    if n < 65536:
        return bytes((0x80 | opcode, 126)) + n.to_bytes(2) + payload
    return bytes((0x80 | opcode, 127)) + n.to_bytes(8) + payload


def text_frame(payload: bytes) -> bytes:
    """A text frame of UTF-8 bytes, ready to write to any number of sockets."""
    return frame(OP_TEXT, payload)


def close_frame(code: int, reason: str = "") -> bytes:
    """A close frame with a status code and a short reason."""
    return frame(OP_CLOSE, code.to_bytes(2) + reason.encode()[:120])


def _unmask(data: bytes, mask: bytes) -> bytearray:
    payload = bytearray(data)
    websocket_mask(mask, payload)  # aiohttp's C loop: 6x faster than int XOR on 350 bytes
    return payload


def _report(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (exc := task.exception()) is not None:
        _LOGGER.error("socket task failed", exc_info=exc)


def _accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1(key.encode() + _GUID).digest()).decode()  # noqa: S324


def _response(status: str, body: str = "", headers: str = "") -> bytes:
    data = body.encode()
    return (
        f"HTTP/1.1 {status}\r\n{headers}Content-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n"
    ).encode() + data


class WsConn(asyncio.Protocol):
    """One connection: the first HTTP request, then WebSocket frames.

    Subclasses answer the hooks (`on_upgrade`, `on_open`, `on_text`, `on_ping`, `on_binary`,
    `on_stall`, `on_lost`); a hook may return a coroutine: reading then pauses until it ends, so
    frames of one socket are always handled in order.
    """

    __slots__ = (
        "_buf", "_frag", "_frag_op", "_http", "_limits", "_path", "_task", "_timer", "closing",
        "stalled", "transport",
    )  # fmt: skip

    def __init__(self, limits: Limits, path: str, http: HttpFactory) -> None:
        self._limits = limits
        self._path = path
        self._http = http
        self._buf = b""
        self._frag: list[bytes] | None = None
        self._frag_op = OP_TEXT
        self._task: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self.transport: asyncio.Transport | None = None
        self.closing = False
        self.stalled = 0.0  # loop time writing paused (buffer above the high-water mark)

    # -- hooks -----------------------------------------------------------------------------

    def on_upgrade(self, req: Upgrade) -> bool:
        """Tell whether to accept an upgrade at all (False answers 503)."""
        return True

    def on_open(self, req: Upgrade) -> Task | None:
        """The socket is open."""
        return None

    def on_text(self, text: str, size: int) -> Task | None:
        """A text message of `size` bytes."""
        return None

    def on_ping(self, size: int) -> bool:
        """A ping of `size` bytes; True answers it with a pong."""
        return True

    def on_binary(self, size: int) -> None:
        """A binary message."""

    def on_bad_text(self) -> None:
        """A text message that is not UTF-8 (the socket is closed with 1007 after this)."""

    def on_stall(self, stalled: bool) -> None:
        """The send buffer went above (True) or back below (False) its high-water mark."""

    def on_lost(self) -> None:
        """The connection is gone (only called for sockets that were opened)."""

    # -- sending ---------------------------------------------------------------------------

    def send(self, data: bytes) -> bool:
        """Write a pre-encoded frame now; never waits. False when closed or its buffer is full."""
        t = self.transport
        if self.closing or t is None:
            return False
        if self.stalled and t.get_write_buffer_size() + len(data) > self._limits[2]:
            self.abort()
            return False
        t.write(data)
        return True

    def close(self, code: int, reason: str = "") -> None:
        """Send a close frame; close the connection at the peer's answer or after a grace time.

        Frames the peer sends meanwhile are read and dropped.
        """
        t = self.transport
        if self.closing or t is None:
            return
        self.closing = True
        t.write(close_frame(code, reason))
        asyncio.get_running_loop().call_later(CLOSE_GRACE, self._shut)

    def _shut(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        """Drop the connection at once, unsent data and all."""
        self.closing = True
        if self.transport is not None:
            self.transport.abort()

    # -- asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Start reading the request, which must come within HANDSHAKE_TIMEOUT."""
        self.transport = transport  # type: ignore[assignment] (uvloop's are not subclasses)
        self._timer = asyncio.get_running_loop().call_later(HANDSHAKE_TIMEOUT, self.abort)

    def _handshake_done(self) -> None:
        """The request was read: stop its timer (freed now, not in HANDSHAKE_TIMEOUT)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def connection_lost(self, exc: Exception | None) -> None:
        """Tell the subclass once, if the socket had been opened."""
        self._handshake_done()
        self.closing = True
        opened = self._path == ""
        self.transport = None
        self._buf = b""
        if opened:
            self.on_lost()

    def pause_writing(self) -> None:
        """The send buffer is above the high-water mark."""
        self.stalled = asyncio.get_running_loop().time()
        self.on_stall(True)

    def resume_writing(self) -> None:
        """The send buffer drained."""
        self.stalled = 0.0
        self.on_stall(False)

    def data_received(self, data: bytes) -> None:
        """Parse the request, then frames."""
        self._buf = self._buf + data if self._buf else data
        if self._path:
            self._read_request()
        elif self._task is None:
            self._read_frames()

    # -- the HTTP request ------------------------------------------------------------------

    def _read_request(self) -> None:
        buf = self._buf
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            if len(buf) > MAX_HEAD:
                self._reply(_response("431 Request Header Fields Too Large"))
            return
        self._handshake_done()
        lines = buf[:end].decode("latin-1").split("\r\n")
        method, _, rest = lines[0].partition(" ")
        target = rest.rpartition(" ")[0]
        url = urlsplit(target)
        headers: dict[str, str] = {}
        forwarded: list[str] = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "x-forwarded-for":
                forwarded.append(value.strip())
            else:
                headers[name] = value.strip()
        upgrade = (
            method == "GET"
            and url.path == self._path
            and headers.get("upgrade", "").lower() == "websocket"
        )
        if not upgrade:
            self._hand_over()
            return
        key = headers.get("sec-websocket-key", "")
        if headers.get("sec-websocket-version") != "13" or len(key) != 24:
            self._reply(_response("400 Bad Request", "Bad WebSocket handshake"))
            return
        assert self.transport is not None
        peer = self.transport.get_extra_info("peername")
        req = Upgrade(url.path, dict(parse_qsl(url.query)), forwarded, peer[0] if peer else None)
        if not self.on_upgrade(req):
            self._reply(_response("503 Service Unavailable", "Server is full"))
            return
        self._buf = buf[end + 4 :]
        self._path = ""  # from here on: frames
        self.transport.set_write_buffer_limits(high=self._limits[1])
        self.transport.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + _accept_key(key).encode() + b"\r\n\r\n"
        )
        if self._run(self.on_open(req)) and self._buf:
            self._read_frames()

    def _reply(self, data: bytes) -> None:
        assert self.transport is not None
        self.closing = True
        self.transport.write(data)
        self.transport.close()

    def _hand_over(self) -> None:
        """Give the connection and the bytes read so far to the HTTP server."""
        assert self.transport is not None
        proto = self._http()
        self.transport.set_protocol(proto)
        proto.connection_made(self.transport)
        data, self._buf, self.transport = self._buf, b"", None
        proto.data_received(data)

    # -- frames ----------------------------------------------------------------------------

    def _run(self, work: Task | None) -> bool:
        """Start `work` at once; if it has to wait, pause reading until it is done (frames of
        one socket are handled in order). Tell whether reading goes on now."""
        if work is None:
            return True
        task = asyncio.Task(work, loop=asyncio.get_running_loop(), eager_start=True)
        if task.done():
            _report(task)
            return True
        assert self.transport is not None
        self.transport.pause_reading()
        self._task = task
        task.add_done_callback(self._resume)
        return False

    def _resume(self, task: asyncio.Task[None]) -> None:
        self._task = None
        _report(task)
        if self.transport is not None and not self.closing:
            self.transport.resume_reading()
            self._read_frames()

    def _read_frames(self) -> None:
        buf = self._buf
        pos, size = 0, len(buf)
        while size - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            opcode, n, head = b0 & 0x0F, b1 & 0x7F, pos + 2
            if not b1 & 0x80 or b0 & 0x70:
                self.close(CLOSE_PROTOCOL, "masked frames without extensions expected")
                return
            if n == 126:
                if size - head < 2:
                    break
                n, head = int.from_bytes(buf[head : head + 2]), head + 2
            elif n == 127:
                if size - head < 8:
                    break
                n, head = int.from_bytes(buf[head : head + 8]), head + 8
            if n > self._limits[0]:
                self.close(CLOSE_TOO_BIG, "frame too big")
                return
            if size - head < n + 4:
                break
            payload = _unmask(buf[head + 4 : head + 4 + n], buf[head : head + 4])
            pos = head + 4 + n
            if not self._dispatch(b0, opcode, payload):
                self._buf = buf[pos:]
                return
        self._buf = buf[pos:] if pos < size else b""

    def _dispatch(self, b0: int, opcode: int, payload: bytearray) -> bool:
        """Handle one frame; tell whether reading goes on now."""
        if self.closing:  # only the peer's close frame matters now
            if opcode == OP_CLOSE:
                self._shut()
            return True
        if opcode >= OP_CLOSE:
            self._control(opcode, payload)
            return True
        if opcode == OP_CONT or not b0 & 0x80:
            whole = self._fragment(opcode, b0 & 0x80, payload)
            if whole is None:
                return True
            opcode, payload, self._frag = self._frag_op, whole, None
        return self._run(self._message(opcode, payload))

    def _fragment(self, opcode: int, fin: int, payload: bytearray) -> bytes | None:
        """Collect a fragmented message; return it whole at its final frame."""
        if opcode != OP_CONT:
            if self._frag is not None:
                self.close(CLOSE_PROTOCOL, "new message inside a fragmented one")
                return None
            self._frag, self._frag_op = [], opcode
        elif self._frag is None:
            self.close(CLOSE_PROTOCOL, "continuation without a message")
            return None
        self._frag.append(payload)
        if sum(map(len, self._frag)) > self._limits[0]:
            self.close(CLOSE_TOO_BIG, "message too big")
            return None
        return b"".join(self._frag) if fin else None

    def _message(self, opcode: int, payload: bytes | bytearray) -> Task | None:
        if opcode == OP_TEXT:
            try:
                text = payload.decode()
            except UnicodeDecodeError:
                self.on_bad_text()
                self.close(CLOSE_BAD_DATA, "text is not UTF-8")
                return None
            return self.on_text(text, len(payload))
        if opcode == OP_BINARY:
            self.on_binary(len(payload))
            return None
        self.close(CLOSE_PROTOCOL, "unknown opcode")
        return None

    def _control(self, opcode: int, payload: bytearray) -> None:
        if opcode == OP_PING:
            if self.on_ping(len(payload)):
                self.send(frame(OP_PONG, bytes(payload[:125])))
        elif opcode == OP_CLOSE:
            code = int.from_bytes(payload[:2]) if len(payload) >= 2 else CLOSE_OK
            self.close(code if 1000 <= code < 5000 else CLOSE_PROTOCOL)
            self._shut()
        elif opcode != OP_PONG:
            self.close(CLOSE_PROTOCOL, "unknown opcode")
