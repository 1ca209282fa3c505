"""A tiny RTSP relay for tests: a publisher (`ffmpeg -f rtsp`) ANNOUNCEs and RECORDs, readers
DESCRIBE and PLAY; RTP over TCP (interleaved) is forwarded as is. Enough for ffmpeg and PyAV.

ffmpeg's RTSP muxer cannot serve readers itself, so the tests run ffmpeg publishing the real clip
into this relay: `python -m tests.edge.rtsp_relay PORT`.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.support import ServerProcess

PUBLIC = "OPTIONS, DESCRIBE, ANNOUNCE, SETUP, PLAY, RECORD, PAUSE, TEARDOWN"


class Relay:
    """One stream, any path: the last ANNOUNCE's SDP, fanned out to every playing reader."""

    def __init__(self) -> None:
        self.sdp: bytes | None = None
        self.readers: set[asyncio.StreamWriter] = set()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        publisher = False
        try:
            while True:
                first = await reader.readexactly(1)
                if first == b"$":
                    header = await reader.readexactly(3)
                    data = await reader.readexactly(int.from_bytes(header[1:3]))
                    if publisher:
                        self.forward(b"$" + header + data)
                    continue
                publisher |= await self.request(first, reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            self.readers.discard(writer)
            if publisher:  # the camera went away: so does its stream
                self.sdp = None
                for other in tuple(self.readers):
                    other.close()
                self.readers.clear()
            writer.close()

    async def request(
        self, first: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Answer one RTSP request; True if it came from the publisher."""
        head = (first + await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        line, *rest = head.strip().split("\r\n")
        method, url, _ = line.split(" ")
        headers = {
            k.strip().lower(): v.strip() for k, v in (h.split(":", 1) for h in rest if ":" in h)
        }
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        status, extra, payload = "200 OK", {}, b""
        if method == "OPTIONS":
            extra["Public"] = PUBLIC
        elif method == "ANNOUNCE":
            self.sdp = body
        elif method == "DESCRIBE":
            if self.sdp is None:
                status = "404 Not Found"
            else:
                payload = self.sdp
                extra["Content-Type"] = "application/sdp"
                extra["Content-Base"] = url.rstrip("/") + "/"
        elif method == "SETUP":
            extra["Transport"] = headers.get("transport", "RTP/AVP/TCP;unicast;interleaved=0-1")
        elif method == "PLAY":
            extra["Range"] = "npt=0.000-"
            self.readers.add(writer)
        lines = [f"RTSP/1.0 {status}", f"CSeq: {headers.get('cseq', '0')}", "Session: 7d1f00d"]
        lines += [f"{k}: {v}" for k, v in extra.items()]
        lines.append(f"Content-Length: {len(payload)}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)
        await writer.drain()
        if method == "TEARDOWN":
            raise ConnectionError
        return method in ("ANNOUNCE", "RECORD")

    def forward(self, packet: bytes) -> None:
        for writer in tuple(self.readers):
            if writer.transport.get_write_buffer_size() > 4_000_000:
                writer.close()  # a reader that stopped reading
                self.readers.discard(writer)
            else:
                writer.write(packet)


async def serve(port: int) -> None:
    relay = Relay()
    server = await asyncio.start_server(relay.handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def serve_camera(
    start_server: Callable[..., ServerProcess], video: Path, port: int
) -> tuple[ServerProcess, ServerProcess]:
    """Start this relay on `port` and real ffmpeg publishing `video` into it, looped at its real
    pace and copied (not re-encoded): a network camera at rtsp://127.0.0.1:port/cam. Returns
    (relay, ffmpeg) as started by the `start_server` fixture."""
    from tests.conftest import require_program
    from tests.support import PYTHON, REPO

    ffmpeg = require_program("ffmpeg")
    relay = [PYTHON, "-m", "tests.edge.rtsp_relay", str(port)]
    camera = [
        ffmpeg, "-hide_banner", "-loglevel", "warning", "-re", "-stream_loop", "-1",
        "-i", str(video), "-c", "copy", "-rtsp_transport", "tcp", "-f", "rtsp",
        f"rtsp://127.0.0.1:{port}/cam",
    ]  # fmt: skip
    return (
        start_server(relay, port=port, name="relay", cwd=REPO),
        start_server(camera, port=port, name="ffmpeg"),
    )


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(int(sys.argv[1])))
