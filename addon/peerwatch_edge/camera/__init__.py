"""A camera: its feed, its analyser and its event pipeline, wired in that order.

    source ─(reader)─▶ Feed ─offer─▶ Analyser ─(analysis)─▶ EventPipeline ─(loop)─▶ store, bus
       │                └─▶ newest frame, JPEG, live viewers (MJPEG, WebRTC)        │ begin/end
       └─ packets ─▶ Recorder ─(writer)─▶ a clip per event ◀─────────────────────────┘

Each stage states at its top which thread owns what. They hand each other read-only values
(`Frame`, `Analysis`, event copies), through one queue per hand-over. A broken or stalled
source only affects its own camera: its feed reconnects with exponential back-off.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from ..config import CameraConfig
from ..detectors import Detectors
from ..model import CameraStatus
from ..sources import FrameSource, open_source
from .analyser import MAX_PENDING, Analyser, Analysis
from .events import EventPipeline, Outlets
from .feed import Feed, Frame, FrameSubscription
from .recorder import Recorder

__all__ = ["MAX_PENDING", "Analysis", "Camera", "Frame", "FrameSubscription", "Outlets"]


class Camera:
    """A camera: its status, live frames, the detection switch and its detection pipeline."""

    def __init__(
        self,
        config: CameraConfig,
        outlets: Outlets,
        *,
        detection_enabled: bool = True,
        on_setting: Callable[[Camera], None] | None = None,
        source: FrameSource | None = None,
    ) -> None:
        self.config = config
        self.id = config.id
        self.name = config.name
        self.bus = outlets.bus
        self._on_setting = on_setting
        self.feed = Feed(config, source or open_source(config), self._publish_status)
        self.analyser = Analyser(config, enabled=detection_enabled)
        self.recorder: Recorder | None = None
        self.events = EventPipeline(config, outlets)
        if config.record.enabled:
            self.recorder = Recorder(
                config.id, config.record, outlets.store.clips_dir, self.events.clip_reported
            )
            self.feed.source.sink = self.recorder
            self.events.clips = self.recorder
        self.events.enabled = detection_enabled

    @property
    def detection_enabled(self) -> bool:
        """Whether detectors run (the privacy switch); live frames flow either way."""
        return self.analyser.enabled

    @detection_enabled.setter
    def detection_enabled(self, value: bool) -> None:
        if value == self.analyser.enabled:
            return
        self.analyser.enabled = self.events.enabled = value
        if self.recorder is not None:
            self.recorder.switch(value)
        if self._on_setting is not None:
            self._on_setting(self)
        self._publish_status()

    def status(self) -> CameraStatus:
        """The camera's health as others may read it."""
        counts = self.feed.counts()
        return CameraStatus(
            id=self.id,
            name=self.name,
            online=self.feed.online,
            detection_enabled=self.detection_enabled,
            last_frame_at=counts.last_frame_at,
            fps=round(counts.fps, 2),
            error=self.feed.error,
        )

    def latest_jpeg(self) -> bytes | None:
        """The newest frame as JPEG. Blocking: from the loop use `asyncio.to_thread`."""
        return self.feed.latest_jpeg()

    def subscribe_frames(self) -> AbstractAsyncContextManager[FrameSubscription]:
        """Live frames (`Frame`: RGB array + time) for MJPEG/WebRTC: `async for frame in feed`."""
        return self.feed.subscribe()

    def stats(self) -> dict[str, object]:
        """Counters for metrics and diagnostics."""
        feed, analysis = self.feed.counts(), self.analyser.counts()
        return {
            "online": self.feed.online,
            "fps": round(feed.fps, 2),
            "frames": feed.frames,
            "analysed": analysis.analysed,
            "skipped_still": analysis.skipped_still,
            "events": self.events.events,
            "active_tracks": len(self.events.tracker.tracks),
            "reconnects": feed.reconnects,
            "decode_errors": self.feed.source.decode_errors,
            "clip_packets_dropped": self.recorder.dropped if self.recorder is not None else 0,
            "analysis_ms": round(1000 * analysis.analysis_seconds / analysis.analysed, 2)
            if analysis.analysed
            else 0.0,
        }

    async def start(self, detectors: Detectors | None) -> None:
        """Start the analyser, the event pipeline, then the feed that drives them."""
        self.analyser.start(detectors)
        self.events.start(self.analyser)
        if self.recorder is not None:
            self.recorder.start()
            self.recorder.switch(self.detection_enabled)
        self.feed.start(self.analyser.offer)

    async def stop(self) -> None:
        """Stop the threads, end the live events, then finish and store their clips."""
        await asyncio.gather(self.feed.stop(), self.analyser.stop())
        await self.events.stop()
        if self.recorder is not None:
            await self.recorder.stop()  # finishes the clips now
        await self.events.settle()

    def _publish_status(self) -> None:
        self.bus.publish_camera(self.status())
