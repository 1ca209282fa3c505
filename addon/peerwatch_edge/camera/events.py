"""A camera's event pipeline: analyses → tracker → store → bus, with each event's snapshot.

Everything here runs on the event loop, in one task (`_run`); the tracker and its events are
never touched elsewhere. Work done off the loop gets values it cannot change under us: the
store receives a copy of the event, the renderer a read-only frame.

A new event is pushed at once and its snapshot, drawn off the loop, follows in an `update`;
readers asking for the snapshot meanwhile wait on `drawing` instead of getting a 404.
With a recorder, each event asks for its clip when it starts and ends; the recorder's reports
(`clip_reported`) update the event, live or stored, and are pushed as updates.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from concurrent.futures import Executor
from contextlib import suppress
from dataclasses import dataclass
from typing import Final, Literal, Protocol

from ..bus import EventBus
from ..config import CameraConfig
from ..model import Event, Face, utcnow
from ..snapshots import face_crop, render
from ..store import EventStore
from ..tracker import Change, Track, Tracker
from .analyser import Analysis

SNAPSHOT_EVERY: Final = 2.0
"""Seconds between rewrites of a live event's snapshot when its best frame improves."""
IDLE_AFTER: Final = 1.0
"""Seconds without an analysis after which quiet tracks are checked for their end."""


class Analyses(Protocol):
    """Where the pipeline takes analyses from (the camera's `Analyser`)."""

    tracking: bool
    """Told whether any object is being tracked, after each analysis."""

    async def take(self) -> Analysis:
        """The next analysis, in frame order."""
        ...


class Clips(Protocol):
    """Who records the events' clips (the camera's `Recorder`)."""

    recording: bool
    """Whether a new event gets a clip."""

    def begin(self, event_id: str, since: float) -> None:
        """Start the clip of an event first seen at `since` (monotonic)."""
        ...

    def end(self, event_id: str, until: float) -> None:
        """The event was last seen at `until`: its clip ends after the post-roll."""
        ...


class Pending:
    """Work under way per event id that readers wait for instead of finding nothing (event loop
    only)."""

    def __init__(self) -> None:
        self._done: dict[str, asyncio.Event] = {}

    def add(self, event_id: str) -> None:
        """The work for `event_id` began."""
        self._done[event_id] = asyncio.Event()

    def finish(self, event_id: str) -> None:
        """The work for `event_id` is over: its waiters go on."""
        if (done := self._done.pop(event_id, None)) is not None:
            done.set()

    def finish_all(self) -> None:
        """Nobody waits any more."""
        for event_id in tuple(self._done):
            self.finish(event_id)

    async def wait(self, event_id: str) -> None:
        """Return once the work for `event_id` is over (at once if none is under way)."""
        if (done := self._done.get(event_id)) is not None:
            await done.wait()


@dataclass(slots=True, frozen=True)
class Outlets:
    """Where every camera's events go: the store, the bus, and the threads that draw pictures."""

    store: EventStore
    bus: EventBus
    executor: Executor


class EventPipeline:
    """Turns one camera's analyses into stored and published events."""

    def __init__(self, config: CameraConfig, outlets: Outlets, clips: Clips | None = None) -> None:
        self.tracker = Tracker(
            config.id,
            config.end_after,
            config.confirm_frames,
            attach_faces="object" in config.detect and "person" in config.objects.labels,
        )
        self.store = outlets.store
        self.bus = outlets.bus
        self.executor = outlets.executor
        self.clips = clips
        self.enabled = True
        """Whether detection is on; switching it off ends every live event."""
        self.events = 0
        self.drawing = Pending()
        """New events whose first snapshot is being drawn."""
        self.opening = Pending()
        """New events whose clip file is being opened."""
        self._task: asyncio.Task[None] | None = None
        self._reports: set[asyncio.Task[None]] = set()

    def start(self, analyser: Analyses) -> None:
        """Consume the analyser's results until `stop`."""
        self._task = asyncio.create_task(self._run(analyser), name=f"events-{self.tracker.camera}")

    async def stop(self) -> None:
        """Stop consuming and end the live events."""
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
        await self._apply(self.tracker.end_all(utcnow()))

    async def settle(self) -> None:
        """Wait until the clip reports received so far are stored and pushed; nobody waits
        for a clip to open any more."""
        await asyncio.gather(*self._reports, return_exceptions=True)
        self.opening.finish_all()

    def clip_reported(self, event_id: str, done: bool, duration: float | None) -> None:
        """The recorder opened (not `done`) or finished an event's clip (event loop)."""
        self.opening.finish(event_id)
        if not done:  # opened: the event said it has a clip from its start
            return
        task = asyncio.create_task(self._clip(event_id, duration), name="clip-report")
        self._reports.add(task)
        task.add_done_callback(self._reports.discard)

    async def _clip(self, event_id: str, duration: float | None) -> None:
        """Store and push a finished clip's length (None: no playable clip after all)."""
        await self.store.set_clip(event_id, duration)
        live = next((t.event for t in self.tracker.tracks if t.event.id == event_id), None)
        event = live if live is not None else await self.store.get_event(event_id)
        if event is None:  # deleted meanwhile
            return
        event.has_clip = duration is not None
        event.clip_duration = duration
        self.bus.publish_event("update", event)

    async def _run(self, analyser: Analyses) -> None:
        while True:
            try:
                analysis = await asyncio.wait_for(analyser.take(), IDLE_AFTER)
            except TimeoutError:  # no frame for a while: end quiet tracks
                changes = self.tracker.expire(time.monotonic(), utcnow())
            else:
                frame = analysis.frame
                if not self.enabled:
                    changes = self.tracker.end_all(utcnow())
                elif analysis.found is None:  # a still scene
                    changes = self.tracker.expire(frame.monotonic, frame.time)
                else:
                    changes = self.tracker.update(
                        analysis.found, frame.image, frame.monotonic, frame.time
                    )
            analyser.tracking = self.tracker.busy
            await self._apply(changes)

    async def _apply(self, changes: list[Change]) -> None:
        """Store and publish tracker changes."""
        for action, track in changes:
            if action != "start":
                pictures = await self._draw(track) if self._due(action, track) else (None, None)
                await self._save(action, track, *pictures)
                if action == "end" and self.clips is not None:
                    self.clips.end(track.event.id, track.last_seen)
                continue
            self.events += 1
            recorded = self.clips is not None and self.clips.recording
            if recorded:  # announced with the start; readers wait for the file
                track.event.has_clip = True
                self.opening.add(track.event.id)
            self.drawing.add(track.event.id)
            try:
                await self._save(action, track, None, None)
                if self.clips is not None and recorded:
                    self.clips.begin(track.event.id, track.first_seen)
                pictures = await self._draw(track)
                if pictures != (None, None):
                    await self._save("update", track, *pictures)
            finally:
                self.drawing.finish(track.event.id)

    @staticmethod
    def _due(action: str, track: Track) -> bool:
        """Whether the pictures are redrawn with this change: at the end, for a first face, and
        at most every SNAPSHOT_EVERY seconds while the best frame improves."""
        return (
            action != "update"
            or (track.face is not None and track.event.face is None)
            or time.monotonic() - track.snapshot_at >= SNAPSHOT_EVERY
        )

    async def _draw(self, track: Track) -> tuple[tuple[bytes, bytes] | None, bytes | None]:
        """Draw what changed since it was last drawn: the snapshot and thumbnail of the best
        frame with the track's own box (the event takes that box's score), and the best face's
        crop (the event takes that face)."""
        loop = asyncio.get_running_loop()
        event = track.event
        snapshot = face = None
        if track.best_dirty:
            best = track.best
            snapshot = await loop.run_in_executor(self.executor, render, track.best_frame, [best])
            event.score = best.score
            track.best_dirty = False
            track.snapshot_at = time.monotonic()
        if track.face_dirty and track.face is not None and track.face_frame is not None:
            seen = track.face
            face = await loop.run_in_executor(self.executor, face_crop, track.face_frame, seen.box)
            has_image = event.face is not None and event.face.has_image
            event.face = Face(seen.score, seen.box, has_image)
            track.face_dirty = False
        return snapshot, face

    async def _save(
        self,
        action: Literal["start", "update", "end"],
        track: Track,
        snapshot: tuple[bytes, bytes] | None,
        face: bytes | None,
    ) -> None:
        event: Event = track.event
        copy = dataclasses.replace(event, zones=list(event.zones))
        if await self.store.save(copy, snapshot, face):
            event.has_snapshot |= snapshot is not None
            if face is not None and event.face is not None:
                event.face = dataclasses.replace(event.face, has_image=True)
        self.bus.publish_event(action, event)
