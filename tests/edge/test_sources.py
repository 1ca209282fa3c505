"""HTTP cameras: a snapshot URL polled and an MJPEG stream, served by a real aiohttp server."""

from __future__ import annotations

import asyncio
import contextlib
import io
import threading
from base64 import b64encode
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
from aiohttp import web
from PIL import Image

from peerwatch_edge.config import parse_config
from peerwatch_edge.sources import SourceError, StreamSource, open_source
from tests.support import free_port


def jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.fixture
async def camera_server(images_dir: Path) -> AsyncIterator[str]:
    """A fake-free HTTP camera: real JPEGs of a real scene over real HTTP on loopback."""
    frames = [
        jpeg(Image.open(images_dir / name).convert("RGB").resize((320, 180)))
        for name in ("person.jpg", "background.jpg")
    ]

    async def snapshot(_: web.Request) -> web.Response:
        return web.Response(body=frames[0], content_type="image/jpeg")

    async def private(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != "Basic " + b64encode(b"cam:p@ss").decode():
            raise web.HTTPUnauthorized
        return web.Response(body=frames[1], content_type="image/jpeg")

    async def broken(_: web.Request) -> web.Response:
        return web.Response(body=b"<html>login</html>", content_type="text/html")

    async def mjpeg(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "multipart/x-mixed-replace; boundary=frame"}
        )
        await response.prepare(request)
        with contextlib.suppress(ConnectionError):  # the reader hung up
            for i in range(40):
                part = frames[(i // 3) % 2]
                await response.write(
                    b"--frame\r\nContent-Type: image/jpeg\r\n"
                    + f"Content-Length: {len(part)}\r\n\r\n".encode()
                    + part
                    + b"\r\n"
                )
                await asyncio.sleep(0.05)
        return response

    app = web.Application()
    app.router.add_get("/snapshot.jpg", snapshot)
    app.router.add_get("/broken.jpg", broken)
    app.router.add_get("/private.jpg", private)
    app.router.add_get("/video.mjpg", mjpeg)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


def take(source: StreamSource | object, count: int) -> list[np.ndarray]:
    stop = threading.Event()
    frames = []
    for picture in source.frames(stop):  # type: ignore[attr-defined]
        frames.append(picture.image)
        assert picture.scaled(30, 20).shape == (20, 30, 3)
        if len(frames) == count:
            stop.set()
    return frames


def source_for(url: str, **extra: object) -> object:
    config = parse_config({"cameras": [{"id": "cam", "source": url, "fps": 10, **extra}]})
    return open_source(config.cameras[0])


async def test_snapshot_url_polled(camera_server: str) -> None:
    source = source_for(f"{camera_server}/snapshot.jpg")
    frames = await asyncio.to_thread(take, source, 3)
    assert [f.shape for f in frames] == [(180, 320, 3)] * 3

    broken = source_for(f"{camera_server}/broken.jpg")
    with pytest.raises(SourceError, match="is not an image"):
        await asyncio.to_thread(take, broken, 1)
    missing = source_for(f"{camera_server}/nothing.jpg")
    with pytest.raises(SourceError, match="404"):
        await asyncio.to_thread(take, missing, 1)


async def test_snapshot_with_credentials(camera_server: str) -> None:
    host = camera_server.removeprefix("http://")
    source = source_for(f"http://cam:p%40ss@{host}/private.jpg")
    (frame,) = await asyncio.to_thread(take, source, 1)
    assert frame.shape == (180, 320, 3)
    wrong = source_for(f"http://cam:secret@{host}/private.jpg")
    with pytest.raises(SourceError, match="401") as err:
        await asyncio.to_thread(take, wrong, 1)
    assert "secret" not in str(err.value)
    assert f"http://***@{host}/private.jpg" in str(err.value)


async def test_mjpeg_stream(camera_server: str) -> None:
    source = source_for(f"{camera_server}/video.mjpg", fps=5)
    assert isinstance(source, StreamSource)
    frames = await asyncio.to_thread(take, source, 4)
    assert [f.shape for f in frames] == [(180, 320, 3)] * 4
    assert any(not np.array_equal(frames[0], f) for f in frames[1:])  # both scenes came


async def test_file_source_once_and_missing(video_path: Path, tmp_path: Path) -> None:
    source = StreamSource(str(video_path), 2, timeout=None, file=True, realtime=False)
    frames = await asyncio.to_thread(take, source, 1000)
    assert 10 <= len(frames) <= 13  # ~5.9 s at 2 fps
    assert source.finished
    missing = StreamSource(str(tmp_path / "x.mkv"), 2, timeout=None, file=True)
    with pytest.raises(SourceError, match="cannot open"):
        await asyncio.to_thread(take, missing, 1)


async def test_looping_file_rewinds_without_reopening(
    video_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A looped file seeks back to its start: the same frames again, the file opened once."""
    source = StreamSource(str(video_path), 1000, timeout=None, file=True, realtime=False, loop=True)
    opened = []
    open_file = source._open
    monkeypatch.setattr(source, "_open", lambda: opened.append(1) or open_file())
    frames = await asyncio.to_thread(take, source, 150)  # the clip has 60 frames
    assert len(frames) >= 150
    assert np.array_equal(frames[0], frames[60])
    assert np.array_equal(frames[59], frames[119])
    assert not np.array_equal(frames[0], frames[59])
    assert len(opened) == 1
    assert not source.finished
