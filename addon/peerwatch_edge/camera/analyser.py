"""A camera's analyser: which frames are worth analysing, the detectors, and the camera's rules.

Who owns what:
- The feed's reader thread runs `offer`: the motion gate and the object model's input for each
  new frame (overlapping the previous frame's inference), then leaves the frame in the slot.
- The analysis thread (`_run`) takes the newest frame from the slot as soon as it finishes the
  last, runs the detectors, keeps what `Rules` want and hands an immutable `Analysis` to the
  event loop through one queue. It pauses while `MAX_PENDING` analyses wait there, so a stuck
  loop stops analysis instead of piling up frames.
- The event loop takes analyses (`take`) and sets the switches `enabled` and `tracking`: plain
  booleans the reader thread reads; a stale read only changes one frame's gate decision.
- `_slot` (a condition) guards the waiting frame; `_lock` guards the counters.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from contextlib import suppress
from dataclasses import dataclass
from typing import Final

import numpy as np

from ..config import CameraConfig
from ..detectors import Detection, Detectors
from ..imaging import Picture, area
from ..model import Kind
from ..motion import MotionGate
from ..zones import zones_of
from .feed import Frame

_LOGGER = logging.getLogger(__name__)

MAX_PENDING: Final = 2
"""Analyses the event loop may have waiting before the analysis thread pauses."""

type Found = tuple[Detection, tuple[str, ...]]
"""A detection the camera wants, with the names of the zones it is in."""


@dataclass(slots=True, frozen=True)
class Analysis:
    """A frame the analysis thread took, and what it found (None: not analysed, because the
    scene was still or detection is off)."""

    frame: Frame
    found: tuple[Found, ...] | None


@dataclass(slots=True, frozen=True)
class AnalyserCounts:
    """The analyser's counters at one moment."""

    analysed: int
    skipped_still: int
    analysis_seconds: float


@dataclass(slots=True, frozen=True)
class _Job:
    frame: Frame
    tensor: np.ndarray | None
    """The object model's input (None: not worth analysing)."""


class Rules:
    """A camera's rules on detections: wanted labels and scores, zones, minimum area."""

    def __init__(self, config: CameraConfig) -> None:
        self.config = config
        objects = config.objects
        self.min_score = min([objects.min_score, *objects.min_scores.values()], default=0.6)
        """The lowest score any wanted label needs: the detectors report nothing below it."""

    def keep(self, detections: list[Detection]) -> tuple[Found, ...]:
        """The detections the camera wants, with their zones."""
        found = []
        for detection in detections:
            if not self._wanted(detection):
                continue
            zones = zones_of(detection.box, self.config.zones)
            if self.config.zones and not zones:
                continue
            found.append((detection, tuple(zones)))
        return tuple(found)

    def _wanted(self, detection: Detection) -> bool:
        config = self.config
        if detection.kind is Kind.OBJECT:
            if detection.label not in config.objects.labels or "object" not in config.detect:
                return False
            if detection.score < config.objects.threshold(detection.label):
                return False
        return detection.kind is Kind.FACE or area(detection.box) >= config.min_area


class Analyser:
    """Runs one camera's detectors on its newest frames, on a thread of its own."""

    def __init__(self, config: CameraConfig, *, enabled: bool = True) -> None:
        self.id = config.id
        self.rules = Rules(config)
        self.gate = MotionGate(config.motion.sensitivity, config.motion.interval)
        self.enabled = enabled
        """Whether detectors run (the privacy switch); set on the event loop."""
        self.tracking = False
        """Whether objects are being tracked (the gate lets every frame through); set on the
        event loop."""
        self.detectors: Detectors | None = None
        self._slot = threading.Condition()
        self._next: _Job | None = None
        self._room = threading.Semaphore(MAX_PENDING)
        self._results: asyncio.Queue[Analysis] = asyncio.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self._analysed = 0
        self._skipped_still = 0
        self._seconds = 0.0

    def counts(self) -> AnalyserCounts:
        """Frames analysed, frames skipped as still, and the time spent analysing."""
        with self._lock:
            return AnalyserCounts(self._analysed, self._skipped_still, self._seconds)

    # --- event loop ------------------------------------------------------------------------

    def start(self, detectors: Detectors | None) -> None:
        """Start the analysis thread; results come back on the running loop."""
        self.detectors = detectors
        self._loop = asyncio.get_running_loop()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"analyse-{self.id}", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        """Stop the analysis thread and release a reader waiting in `offer`."""
        self._stop.set()
        with self._slot:
            self._slot.notify_all()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 5.0)

    async def take(self) -> Analysis:
        """The next analysis, in frame order."""
        analysis = await self._results.get()
        self._room.release()
        return analysis

    # --- reader thread ---------------------------------------------------------------------

    def offer(self, frame: Frame, picture: Picture, paced: bool) -> None:
        """Take a new frame from the feed. A paced source's frame replaces one not yet taken;
        an unpaced source (a file read as fast as it is analysed) waits until it is taken."""
        job = _Job(frame, self._prepare(picture, frame.monotonic))
        with self._slot:
            self._next = job
            self._slot.notify_all()
            while not paced and self._next is not None and not self._stop.is_set():
                self._slot.wait(0.5)

    def _prepare(self, picture: Picture, now: float) -> np.ndarray | None:
        detectors = self.detectors
        if detectors is None or not self.enabled:
            return None
        if not self.gate.should_run(picture.image, now, busy=self.tracking):
            with self._lock:
                self._skipped_still += 1
            return None
        return detectors.prepare(picture)

    # --- analysis thread -------------------------------------------------------------------

    def _take_job(self) -> _Job | None:
        """Wait for the newest frame and take it (None once stopping)."""
        with self._slot:
            while self._next is None:
                if self._stop.is_set():
                    return None
                self._slot.wait(0.5)
            job, self._next = self._next, None
            self._slot.notify_all()
            return job

    def _run(self) -> None:
        while (job := self._take_job()) is not None:
            found = None
            if job.tensor is not None and self.detectors is not None:
                try:
                    found = self._analyse(self.detectors, job)
                except Exception:
                    _LOGGER.exception("camera %s: analysis failed", self.id)
                    continue
            while not self._room.acquire(timeout=0.5):
                if self._stop.is_set():
                    return
            loop = self._loop
            if loop is None or loop.is_closed():
                return
            with suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(self._results.put_nowait, Analysis(job.frame, found))

    def _analyse(self, detectors: Detectors, job: _Job) -> tuple[Found, ...]:
        started = time.perf_counter()
        frame = job.frame
        detections = detectors.detect(
            frame.image, frame.monotonic, self.rules.min_score, job.tensor
        )
        found = self.rules.keep(detections)
        with self._lock:
            self._analysed += 1
            self._seconds += time.perf_counter() - started
        return found
