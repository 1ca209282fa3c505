"""One camera's worker: a reader thread, an analysis thread, and an asyncio task.

reader thread:   source → motion gate, model input → latest frame (live feeds) → analysis slot
analysis thread: newest frame in the slot → detectors → zones, min area → results, in order
pipeline task:   results → tracker → store → bus
The analysis thread takes the next frame as soon as it finishes one, so inference never waits
for the event loop; only when the loop falls behind by `MAX_PENDING` results does it pause.
A broken or stalled source only affects its own camera: it reconnects with exponential back-off.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Executor
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import numpy as np
from PIL import Image

from .bus import EventBus
from .config import CameraConfig
from .detectors import Detection, Detectors
from .model import CameraStatus, Kind, utcnow
from .motion import MotionGate
from .snapshots import encode_jpeg, render
from .sources import FrameSource, Picture, SourceError, open_source
from .store import EventStore
from .tracker import Change, Track, Tracker
from .zones import area, zones_of

_LOGGER = logging.getLogger(__name__)

BACKOFF_MIN: Final = 1.0
BACKOFF_MAX: Final = 30.0
SNAPSHOT_EVERY: Final = 2.0
"""Seconds between rewrites of a live event's snapshot when its best frame improves."""
MAX_PENDING: Final = 2
"""Analysed frames the event loop may have waiting before the analysis thread pauses."""

type Result = tuple["Frame", list[tuple[Detection, list[str]]] | None]
"""A frame taken by the analysis thread and what it found (None: not analysed)."""


@dataclass(slots=True, frozen=True)
class Frame:
    """A decoded RGB frame (H, W, 3) uint8 and when it was taken."""

    image: np.ndarray
    time: datetime
    monotonic: float
    seq: int
    tensor: np.ndarray | None = None
    """The object model's input, prepared on the reader thread when the motion gate let the
    frame through (None: a still scene, or detection off)."""


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


class Camera:
    """A camera: its status, live frames, the detection switch and its detection pipeline."""

    def __init__(
        self,
        config: CameraConfig,
        *,
        store: EventStore,
        bus: EventBus,
        executor: Executor,
        detection_enabled: bool = True,
        on_setting: Callable[[Camera], None] | None = None,
        source: FrameSource | None = None,
    ) -> None:
        self.config = config
        self.id = config.id
        self.name = config.name
        self.store = store
        self.bus = bus
        self.executor = executor
        self.source = source or open_source(config)
        self.detectors: Detectors | None = None
        self.gate = MotionGate(config.motion.sensitivity, config.motion.interval)
        self.tracker = Tracker(config.id, config.end_after)
        self._detection_enabled = detection_enabled
        self._on_setting = on_setting
        self._min_score = min(
            [config.objects.min_score, *config.objects.min_scores.values()], default=0.6
        )
        self._lock = threading.Lock()
        self._frame: Frame | None = None
        self._jpeg: tuple[int, bytes] | None = None
        self._subscribers: set[FrameSubscription] = set()
        self._stop = threading.Event()
        self._slot = threading.Condition()
        self._next: Frame | None = None
        """The newest frame not yet taken by the analysis thread (guarded by `_slot`)."""
        self._room = threading.Semaphore(MAX_PENDING)
        self._results: asyncio.Queue[Result] = asyncio.Queue()
        self._threads: list[threading.Thread] = []
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._online = False
        self._error: str | None = None
        self._frame_times: list[float] = []
        # Counters for stats().
        self.frames = 0
        self.analysed = 0
        self.skipped_still = 0
        self.events = 0
        self.reconnects = 0
        self.analysis_seconds = 0.0

    # --- public ----------------------------------------------------------------------------

    @property
    def detection_enabled(self) -> bool:
        """Whether detectors run (the privacy switch); live frames flow either way."""
        return self._detection_enabled

    @detection_enabled.setter
    def detection_enabled(self, value: bool) -> None:
        if value == self._detection_enabled:
            return
        self._detection_enabled = value
        if self._on_setting is not None:
            self._on_setting(self)
        self._publish_status()

    def status(self) -> CameraStatus:
        """The camera's health as others may read it."""
        with self._lock:
            last = self._frame.time if self._frame is not None else None
            fps = self._fps()
        return CameraStatus(
            id=self.id,
            name=self.name,
            online=self._online,
            detection_enabled=self._detection_enabled,
            last_frame_at=last,
            fps=round(fps, 2),
            error=self._error,
        )

    def latest_frame(self) -> Frame | None:
        """The newest decoded frame."""
        return self._frame

    def latest_jpeg(self) -> bytes | None:
        """The newest frame as JPEG (encoded once per frame, cached). Blocking: from the event
        loop call it as `await asyncio.to_thread(camera.latest_jpeg)`."""
        with self._lock:
            frame, cached = self._frame, self._jpeg
        if frame is None:
            return None
        if cached is not None and cached[0] == frame.seq:
            return cached[1]
        data = encode_jpeg(Image.fromarray(frame.image), 80)
        with self._lock:
            if self._jpeg is None or self._jpeg[0] < frame.seq:
                self._jpeg = (frame.seq, data)
        return data

    @asynccontextmanager
    async def subscribe_frames(self) -> AsyncIterator[FrameSubscription]:
        """Live frames (`Frame`: RGB array + time) for MJPEG/WebRTC: `async for frame in feed`."""
        feed = FrameSubscription()
        self._subscribers.add(feed)
        try:
            if self._frame is not None:
                feed.put(self._frame)
            yield feed
        finally:
            self._subscribers.discard(feed)

    def stats(self) -> dict[str, object]:
        """Counters for metrics and diagnostics."""
        status = self.status()
        return {
            "online": status.online,
            "fps": status.fps,
            "frames": self.frames,
            "analysed": self.analysed,
            "skipped_still": self.skipped_still,
            "events": self.events,
            "active_tracks": len(self.tracker.tracks),
            "reconnects": self.reconnects,
            "decode_errors": self.source.decode_errors,
            "analysis_ms": round(1000 * self.analysis_seconds / self.analysed, 2)
            if self.analysed
            else 0.0,
        }

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self, detectors: Detectors | None) -> None:
        """Start reading the source and running the pipeline."""
        self.detectors = detectors
        self._loop = asyncio.get_running_loop()
        self._stop.clear()
        self._threads = [
            threading.Thread(target=self._read, name=f"camera-{self.id}", daemon=True),
            threading.Thread(target=self._analyse_frames, name=f"analyse-{self.id}", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        self._task = asyncio.create_task(self._pipeline(), name=f"pipeline-{self.id}")

    async def stop(self) -> None:
        """Stop the threads and the pipeline; end live events."""
        self._stop.set()
        with self._slot:
            self._slot.notify_all()
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
        await self._apply(self.tracker.end_all(utcnow()))
        for thread in self._threads:
            await asyncio.to_thread(thread.join, 5.0)
        self._set_online(False, "stopped")

    # --- reader thread ---------------------------------------------------------------------

    def _read(self) -> None:
        delay = BACKOFF_MIN
        while not self._stop.is_set():
            try:
                for picture in self.source.frames(self._stop):
                    self._on_frame(picture)
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
            self.reconnects += 1

    def _prepare(self, picture: Picture, now: float) -> np.ndarray | None:
        """Gate a frame and, if worth analysing, resize it for the object model. Done here on
        the reader thread, it overlaps the previous frame's inference."""
        detectors = self.detectors
        if detectors is None or not self._detection_enabled:
            return None
        if not self.gate.should_run(picture.image, now, busy=self.tracker.busy):
            self.skipped_still += 1
            return None
        objects = detectors.models.objects
        return objects.batch(picture.scaled(objects.model.width, objects.model.height))

    def _on_frame(self, picture: Picture) -> None:
        now = time.monotonic()
        tensor = self._prepare(picture, now)
        with self._lock:
            seq = self._frame.seq + 1 if self._frame is not None else 1
            frame = self._frame = Frame(picture.image, utcnow(), now, seq, tensor)
            self._frame_times.append(now)
            if len(self._frame_times) > 30:
                del self._frame_times[:-30]
            self.frames += 1
        if self._subscribers or not self._online:  # else the loop has nothing to do
            self._call_soon(self._frame_arrived)
        with self._slot:
            self._next = frame  # replaces one not yet taken: a paced source skips frames
            self._slot.notify_all()
            while not self.source.paced and self._next is not None and not self._stop.is_set():
                self._slot.wait(0.5)  # an unpaced source waits until it is taken

    # --- analysis thread -------------------------------------------------------------------

    def _take(self) -> Frame | None:
        """Wait for the newest frame and take it (None once stopping)."""
        with self._slot:
            while self._next is None:
                if self._stop.is_set():
                    return None
                self._slot.wait(0.5)
            frame, self._next = self._next, None
            self._slot.notify_all()
            return frame

    def _analyse_frames(self) -> None:
        """Analyse frames as fast as they come, handing results to the loop in order."""
        while (frame := self._take()) is not None:
            found = None
            if frame.tensor is not None and self.detectors is not None:
                try:
                    found = self._analyse(frame)
                except Exception:
                    _LOGGER.exception("camera %s: analysis failed", self.id)
                    continue
            while not self._room.acquire(timeout=0.5):
                if self._stop.is_set():
                    return
            self._call_soon(self._results.put_nowait, (frame, found))

    def _call_soon(self, func: Callable[..., object], *args: object) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with suppress(RuntimeError):
                loop.call_soon_threadsafe(func, *args)

    def _fps(self) -> float:
        times = self._frame_times
        if len(times) < 2 or time.monotonic() - times[-1] > self.config.stall_timeout:
            return 0.0
        return (len(times) - 1) / (times[-1] - times[0]) if times[-1] > times[0] else 0.0

    # --- event loop ------------------------------------------------------------------------

    def _frame_arrived(self) -> None:
        if not self._online:
            self._set_online(True, None)
        frame = self._frame
        if frame is not None:
            for feed in tuple(self._subscribers):
                feed.put(frame)

    def _set_online(self, online: bool, error: str | None) -> None:
        changed = online != self._online or error != self._error
        self._online, self._error = online, error
        if changed:
            self._publish_status()

    def _publish_status(self) -> None:
        self.bus.publish_camera(self.status())

    async def _pipeline(self) -> None:
        while True:
            try:
                frame, found = await asyncio.wait_for(self._results.get(), timeout=1.0)
            except TimeoutError:
                await self._idle()
                continue
            self._room.release()
            if not self._detection_enabled or self.detectors is None:
                await self._apply(self.tracker.end_all(utcnow()))
            elif found is None:  # a still scene
                await self._apply(self.tracker.expire(frame.monotonic, frame.time))
            else:
                await self._apply(
                    self.tracker.update(found, frame.image, frame.monotonic, frame.time)
                )

    async def _idle(self) -> None:
        """No new frame for a second: end quiet tracks; notice a stalled stream."""
        await self._apply(self.tracker.expire(time.monotonic(), utcnow()))
        frame = self._frame
        stalled = (
            frame is not None and time.monotonic() - frame.monotonic > self.config.stall_timeout
        )
        if self._online and stalled:
            self._set_online(False, f"no frame for {self.config.stall_timeout:.0f} s")

    def _analyse(self, frame: Frame) -> list[tuple[Detection, list[str]]]:
        """Detect and filter one frame the gate let through (analysis thread)."""
        assert self.detectors is not None
        started = time.perf_counter()
        found = []
        detections = self.detectors.detect(
            frame.image, frame.monotonic, self._min_score, frame.tensor
        )
        for detection in detections:
            if not self._wanted(detection):
                continue
            zones = zones_of(detection.box, self.config.zones)
            if self.config.zones and not zones:
                continue
            found.append((detection, zones))
        self.analysed += 1
        self.analysis_seconds += time.perf_counter() - started
        return found

    def _wanted(self, detection: Detection) -> bool:
        objects = self.config.objects
        if detection.kind is Kind.OBJECT:
            if detection.label not in objects.labels or "object" not in self.config.detect:
                return False
            if detection.score < objects.threshold(detection.label):
                return False
        return detection.kind is Kind.FACE or area(detection.box) >= self.config.min_area

    async def _apply(self, changes: list[Change]) -> None:
        """Store and publish tracker changes. A new event is pushed at once and its snapshot,
        drawn off the loop, follows in an `update`; readers asking for it meanwhile wait."""
        for action, track in changes:
            if action != "start":
                due = action != "update" or time.monotonic() - track.snapshot_at >= SNAPSHOT_EVERY
                await self._save(action, track, await self._render(track) if due else None)
                continue
            self.events += 1
            with self.store.snapshot_pending(track.event.id):
                await self._save(action, track, None)
                snapshot = await self._render(track)
                if snapshot is not None:
                    await self._save("update", track, snapshot)

    async def _render(self, track: Track) -> tuple[bytes, bytes] | None:
        """The snapshot and thumbnail of the track's best frame, if it changed since the last."""
        if not track.best_dirty:
            return None
        snapshot = await asyncio.get_running_loop().run_in_executor(
            self.executor, render, track.best_frame, track.best_detections
        )
        track.best_dirty = False
        track.snapshot_at = time.monotonic()
        return snapshot

    async def _save(self, action: str, track: Track, snapshot: tuple[bytes, bytes] | None) -> None:
        await self.store.save(track.event, snapshot)
        self.bus.publish_event(action, track.event)
