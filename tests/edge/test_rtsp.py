"""A network camera end to end: real ffmpeg streams the real clip over RTSP (through a tiny
relay, since ffmpeg's RTSP muxer cannot serve readers); the server dies and comes back."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from peerwatch_edge.bus import Subscription
from peerwatch_edge.config import parse_config
from peerwatch_edge.edge import Edge
from tests.edge.rtsp_relay import serve_camera
from tests.support import ServerProcess, free_port


async def wait_status(subscription: Subscription, camera: str, *, online: bool) -> dict[str, Any]:
    """Wait for the camera's status to say online (or offline)."""
    async with asyncio.timeout(40):
        while True:
            message = await subscription.get()
            status = message.get("camera")
            if status is not None and status["id"] == camera and status["online"] is online:
                return status


@pytest.mark.slow
async def test_rtsp_camera_goes_offline_and_comes_back(
    start_server: Callable[..., ServerProcess], models_dir: Path, video_path: Path, tmp_path: Path
) -> None:
    port = free_port()
    url = f"rtsp://127.0.0.1:{port}/cam"

    def serve() -> tuple[ServerProcess, ServerProcess]:
        return serve_camera(start_server, video_path, port)

    relay, camera = serve()
    config = parse_config(
        {
            "data_dir": str(tmp_path / "data"),
            "models_dir": str(models_dir),
            "cameras": [{"id": "net", "source": url, "stall_timeout": 3}],
        }
    )
    edge = Edge(config)
    async with edge.bus.subscribe() as subscription:
        await edge.start()
        try:
            await wait_status(subscription, "net", online=True)
            assert edge.cameras["net"].feed.latest() is not None

            camera.kill()
            relay.kill()
            down = await wait_status(subscription, "net", online=False)
            assert down["error"]
            assert edge.cameras["net"].status().online is False

            relay, camera = serve()
            up = await wait_status(subscription, "net", online=True)
            assert up["error"] is None
            stats = edge.stats()["cameras"]["net"]
        finally:
            await edge.stop()
    assert stats["reconnects"] >= 1
    assert stats["frames"] >= 2
