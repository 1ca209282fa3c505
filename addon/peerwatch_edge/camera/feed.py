"""A camera's feed: the reader thread, the newest frame, live viewers and the camera's health.

Who owns what:
- The reader thread (`_read`) pulls pictures from the source, reconnecting with exponential
  back-off, turns each into a read-only `Frame`, keeps it as the newest and hands it to the
  consumer (the analyser's intake, which runs on this thread).
- `_lock` guards what the reader shares: the newest frame, its cached JPEG, the frame times
  and the counters. Readers on other threads take the lock too.
- The event loop owns the rest: viewers, `online` and `error`, and the stall watchdog. The
  reader reaches it only through `call_soon_threadsafe`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import numpy as np
from PIL import Image

from ..config import CameraConfig
from ..imaging import Picture
from ..model import utcnow
from ..snapshots import encode_jpeg
from ..sources import FrameSource, SourceError

_LOGGER = logging.getLogger(__name__)

BACKOFF_MIN: Final = 1.0
BACKOFF_MAX: Final = 30.0
FPS_WINDOW: Final = 30
"""Frames over which the frame rate is measured."""
WATCH_EVERY: Final = 1.0
"""Seconds between checks for a stalled stream."""

type Consumer = Callable[["Frame", Picture, bool], None]
"""Takes each new frame on the reader thread: (frame, its picture, whether the source is paced)."""


@dataclass(slots=True, frozen=True)
class Frame:
    """A decoded RGB frame (H, W, 3) uint8, read-only, and when it was taken."""

    image: np.ndarray
    time: datetime
    monotonic: float
    seq: int


@dataclass(slots=True, frozen=True)
class FeedCounts:
    """The reader's counters at one moment."""

    frames: int
    reconnects: int
    fps: float
    last_frame_at: datetime | None


class FrameSubscription:
    """A live frame feed holding only the newest frame: slow consumers skip frames."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[Frame] = asyncio.Queue(1)

    def put(self, frame: Frame) -> None:
        """Offer a frame, replacing one not yet taken."""
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(frame)

    def __aiter__(self) -> AsyncIterator[Frame]:
        return self

    async def __anext__(self) -> Frame:
        return await self._queue.get()


class Feed:
    """Reads one camera's source on its own thread; serves its newest frame and live viewers."""

    def __init__(
        self, config: CameraConfig, source: FrameSource, on_status: Callable[[], None]
    ) -> None:
        self.id = config.id
        self.source = source
        self.stall_timeout = config.stall_timeout
        self._on_status = on_status
        self._lock = threading.Lock()
        self._latest: Frame | None = None
        self._jpeg: tuple[int, bytes] | None = None
        self._times: deque[float] = deque(maxlen=FPS_WINDOW)
        self._frames = 0
        self._reconnects = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._viewers: set[FrameSubscription] = set()
        self.online = False
        self.error: str | None = None

    # --- any thread ------------------------------------------------------------------------

    def latest(self) -> Frame | None:
        """The newest frame."""
        with self._lock:
            return self._latest

    def latest_jpeg(self) -> bytes | None:
        """The newest frame as JPEG (encoded once per frame, cached). Blocking: from the event
        loop call it through `asyncio.to_thread`."""
        with self._lock:
            frame, cached = self._latest, self._jpeg
        if frame is None:
            return None
        if cached is not None and cached[0] == frame.seq:
            return cached[1]
        data = encode_jpeg(Image.fromarray(frame.image), 80)
        with self._lock:
            if self._jpeg is None or self._jpeg[0] < frame.seq:
                self._jpeg = (frame.seq, data)
        return data

    def counts(self) -> FeedCounts:
        """Frames read, reconnects, the recent frame rate and the newest frame's time."""
        with self._lock:
            times, latest = tuple(self._times), self._latest
            frames, reconnects = self._frames, self._reconnects
        fps = 0.0
        fresh = bool(times) and time.monotonic() - times[-1] <= self.stall_timeout
        if fresh and len(times) >= 2 and times[-1] > times[0]:
            fps = (len(times) - 1) / (times[-1] - times[0])
        return FeedCounts(frames, reconnects, fps, latest.time if latest is not None else None)

    # --- event loop ------------------------------------------------------------------------

    def start(self, consumer: Consumer) -> None:
        """Start the reader thread, handing every frame to `consumer`, and the watchdog."""
        self._loop = asyncio.get_running_loop()
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._read, args=(consumer,), name=f"camera-{self.id}", daemon=True
        )
        self._thread.start()
        self._watchdog = asyncio.create_task(self._watch(), name=f"feed-{self.id}")

    async def stop(self) -> None:
        """Stop the reader thread and the watchdog; the camera goes offline ("stopped")."""
        self._stop.set()
        if self._watchdog is not None:
            self._watchdog.cancel()
            with suppress(asyncio.CancelledError):
                await self._watchdog
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 5.0)
        self._set_online(False, "stopped")

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[FrameSubscription]:
        """Live frames for MJPEG and WebRTC viewers: `async for frame in feed`."""
        feed = FrameSubscription()
        self._viewers.add(feed)
        try:
            if (latest := self.latest()) is not None:
                feed.put(latest)
            yield feed
        finally:
            self._viewers.discard(feed)

    def _arrived(self) -> None:
        if not self.online:
            self._set_online(True, None)
        if (latest := self.latest()) is not None:
            for viewer in tuple(self._viewers):
                viewer.put(latest)

    def _set_online(self, online: bool, error: str | None) -> None:
        changed = online != self.online or error != self.error
        self.online, self.error = online, error
        if changed:
            self._on_status()

    async def _watch(self) -> None:
        """Take the camera offline when no frame came for `stall_timeout` seconds."""
        while True:
            await asyncio.sleep(WATCH_EVERY)
            latest = self.latest()
            if (
                self.online
                and latest is not None
                and time.monotonic() - latest.monotonic > self.stall_timeout
            ):
                self._set_online(False, f"no frame for {self.stall_timeout:.0f} s")

    # --- reader thread ---------------------------------------------------------------------

    def _read(self, consumer: Consumer) -> None:
        delay = BACKOFF_MIN
        while not self._stop.is_set():
            try:
                for picture in self.source.frames(self._stop):
                    consumer(self._keep(picture), picture, self.source.paced)
                    delay = BACKOFF_MIN
                error = "end of file" if self.source.finished else "stream ended"
            except SourceError as err:
                error = str(err)
            except Exception as err:
                _LOGGER.exception("camera %s: source failed", self.id)
                error = f"source failed: {err}"
            if self._stop.is_set():
                return
            self._call_soon(self._set_online, False, error)
            if self.source.finished:
                _LOGGER.info("camera %s: %s", self.id, error)
                return
            _LOGGER.warning("camera %s: %s; retrying in %.0f s", self.id, error, delay)
            self._stop.wait(delay)
            delay = min(BACKOFF_MAX, delay * 2)
            with self._lock:
                self._reconnects += 1

    def _keep(self, picture: Picture) -> Frame:
        """Make the picture the newest frame; wake the loop only when it has work to do."""
        now = time.monotonic()
        picture.image.flags.writeable = False
        with self._lock:
            seq = self._latest.seq + 1 if self._latest is not None else 1
            frame = self._latest = Frame(picture.image, utcnow(), now, seq)
            self._times.append(now)
            self._frames += 1
        if self._viewers or not self.online:  # racy reads are fine: both only skip a wake-up
            self._call_soon(self._arrived)
        return frame

    def _call_soon(self, func: Callable[..., object], *args: object) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with suppress(RuntimeError):
                loop.call_soon_threadsafe(func, *args)
