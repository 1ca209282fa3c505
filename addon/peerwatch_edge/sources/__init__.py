"""Frame sources: RTSP, HTTP MJPEG and local files through PyAV, HTTP snapshot URLs polled.

A source yields RGB frames at the camera's sample rate from a blocking generator that the camera
runs on its own thread; it raises `SourceError` when the stream cannot be opened or breaks.
"""

from __future__ import annotations

from ..config import CameraConfig
from .base import FrameSource, SourceError
from .snapshot import SnapshotSource
from .stream import StreamSource

__all__ = ["FrameSource", "SnapshotSource", "SourceError", "StreamSource", "open_source"]


def open_source(config: CameraConfig) -> FrameSource:
    """Return the frame source a camera's config asks for."""
    if config.source_type == "snapshot":
        return SnapshotSource(config.source, config.fps, timeout=config.stall_timeout)
    if config.source_type == "file":
        return StreamSource(
            config.source,
            config.fps,
            timeout=None,
            file=True,
            realtime=config.realtime,
            loop=config.loop,
        )
    options = {"rtsp_transport": "tcp"} if config.source_type == "rtsp" else {}
    return StreamSource(
        config.source,
        config.fps,
        options=options,
        format="mpjpeg" if config.source_type == "mjpeg" else None,
        timeout=config.stall_timeout,
    )
