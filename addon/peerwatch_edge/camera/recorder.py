"""A camera's recorder: the last seconds of its compressed stream, and a clip per event.

Who owns what:
- The feed's reader thread hands over each demuxed packet (`opened`, `packet`) through one
  queue, never waiting: when the writer falls `QUEUE_SIZE` items behind, packets are dropped
  (counted) and the clips open across the gap end there.
- The writer thread owns everything else: the ring of packets reaching back to the keyframe
  before `pre_roll` seconds, the open clips (PyAV output containers) and their files. Packets
  are copied into each clip as they are, with timestamps moved to the clip's start: no decode,
  no encode. A clip ends `post_roll` seconds after its event, or once `max_length` long.
- The event loop asks for clips (`begin`, `end`) and switches recording (`switch`) through the
  same queue; `on_clip(event_id, done, duration)` comes back on the loop when a clip is open
  (not done) and when it is complete (its duration; None when nothing playable was written).
Times are the monotonic clock when a packet was read, as for frames and tracks.
"""

from __future__ import annotations

import asyncio
import io
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Final

import av
import av.error

from ..clips import MP4_OPTIONS, REMUXABLE, clip_duration
from ..config import RecordConfig

_LOGGER = logging.getLogger(__name__)

QUEUE_SIZE: Final = 1024
"""Packets (and commands) waiting for the writer: a few seconds of any camera's stream."""
RING_BYTES: Final = 64 * 1024 * 1024
"""The ring never holds more than this, whatever the keyframe interval."""
IDLE: Final = 0.5
"""Seconds the writer waits for work before checking clips past their end."""

type ClipCallback = Callable[[str, bool, float | None], None]


@dataclass(slots=True, frozen=True)
class _Held:
    packet: av.Packet
    shift: float
    at: float


@dataclass(slots=True, frozen=True)
class _Opened:
    template: av.VideoStream | None
    """A copy of the source stream's parameters that outlives the source's container (None:
    its codec cannot go into an MP4 as it is)."""
    codec: str


@dataclass(slots=True, frozen=True)
class _Begin:
    event_id: str
    since: float


@dataclass(slots=True, frozen=True)
class _End:
    event_id: str
    until: float


@dataclass(slots=True, frozen=True)
class _Switch:
    enabled: bool


_STOP: Final = object()


class _Clip:
    """One event's file being written (writer thread only)."""

    def __init__(self, event_id: str, path: Path, template: av.VideoStream) -> None:
        self.event_id = event_id
        self.path = path
        self.until: float | None = None
        self.base = template.time_base
        self.tick = float(template.time_base or 1)
        """Seconds per timestamp unit of the source's packets."""
        self.origin: float | None = None
        """The source's timeline, in its ticks, at the clip's first packet (a keyframe)."""
        self.end = 0.0
        """Where the last packet written ends, in ticks from the clip's start."""
        self.container = av.open(str(path), "w", format="mp4", options=MP4_OPTIONS)
        self.stream = self.container.add_stream_from_template(template)

    def write(self, held: _Held) -> None:
        """Copy one packet in, timed from the clip's start; the clip starts on a keyframe."""
        source = held.packet
        pts = source.pts or 0
        dts = source.dts if source.dts is not None else pts
        shift = held.shift / self.tick
        if self.origin is None:
            if not source.is_keyframe:
                return
            self.origin = dts + shift
        start = shift - self.origin
        copy = av.Packet(source)
        copy.time_base = self.base
        copy.pts = round(pts + start)
        copy.dts = round(dts + start)
        copy.duration = source.duration
        copy.is_keyframe = source.is_keyframe
        copy.stream = self.stream
        self.container.mux(copy)
        self.end = max(self.end, pts + start + (source.duration or 0))

    @property
    def seconds(self) -> float:
        """How long the clip written so far plays."""
        return self.end * self.tick

    def close(self) -> float | None:
        """Finish the file; return its duration (None: nothing playable, file removed). When
        finishing failed (a full disk), what the file holds is read back."""
        try:
            self.container.close()
        except (av.error.FFmpegError, OSError) as err:
            _LOGGER.warning("clip %s cut short: %s", self.path.name, err)
            duration = clip_duration(self.path) if self.origin is not None else None
        else:
            duration = round(self.seconds, 3) if self.origin is not None else None
        if duration is None:
            self.path.unlink(missing_ok=True)
        return duration


class Recorder:
    """Keeps one camera's recent packets and writes its events' clips, on a thread of its own."""

    def __init__(
        self, camera_id: str, config: RecordConfig, clips_dir: Path, on_clip: ClipCallback
    ) -> None:
        self.camera_id = camera_id
        self.config = config
        self.clips_dir = clips_dir
        self._on_clip = on_clip
        self._queue: queue.Queue[object] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.dropped = 0
        """Packets the writer could not take in time (reader thread writes, others read)."""
        self.cpu_seconds = 0.0
        """CPU time the writer thread used (writer thread writes, others read)."""
        self.recording = False
        """Whether a new event gets a clip: the stream can be remuxed and recording is on
        (writer thread writes, the event loop reads)."""
        # Writer thread only:
        self._template: av.VideoStream | None = None
        self._ring: deque[_Held] = deque()
        self._ring_bytes = 0
        self._keyframes: deque[float] = deque()
        """When each keyframe in the ring was read, oldest first."""
        self._clips: dict[str, _Clip] = {}
        self._enabled = True
        self._seen_dropped = 0

    # --- event loop ------------------------------------------------------------------------

    def start(self) -> None:
        """Start the writer thread; clip reports come back on the running loop."""
        self._loop = asyncio.get_running_loop()
        self.clips_dir.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(
            target=self._run, name=f"record-{self.camera_id}", daemon=True
        )
        self._thread.start()

    async def stop(self) -> None:
        """Finish the open clips and stop the writer thread."""
        if self._thread is None:
            return
        self._queue.put_nowait(_STOP)
        await asyncio.to_thread(self._thread.join, 30.0)

    def begin(self, event_id: str, since: float) -> None:
        """Start a clip for an event first seen at `since`, from `pre_roll` seconds before."""
        self._command(_Begin(event_id, since))

    def end(self, event_id: str, until: float) -> None:
        """The event was last seen at `until`: its clip ends `post_roll` seconds later."""
        self._command(_End(event_id, until))

    def switch(self, enabled: bool) -> None:
        """Recording on or off (the privacy switch): off ends the clips now and forgets the
        recent packets."""
        self._command(_Switch(enabled))

    def _command(self, command: object) -> None:
        self._queue.put_nowait(command)  # never refused: only packets are dropped

    # --- reader thread ---------------------------------------------------------------------

    def opened(self, stream: av.VideoStream) -> None:
        """The source (re)opened its stream. The reader closes that stream's container when it
        is done, maybe before the writer gets here: the writer is handed a copy of its
        parameters, held by an output container that is never written."""
        codec = stream.codec_context.name
        template = None
        if codec in REMUXABLE:
            template = av.open(io.BytesIO(), "w", format="mp4").add_stream_from_template(stream)
        self._command(_Opened(template, codec))

    def packet(self, packet: av.Packet, shift: float) -> None:
        """One packet read from the source."""
        self._offer(_Held(packet, shift, time.monotonic()))

    def _offer(self, item: object) -> None:
        if self._queue.qsize() >= QUEUE_SIZE:  # the writer is far behind (a slow disk)
            self.dropped += 1
            return
        self._queue.put_nowait(item)

    # --- writer thread ---------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=IDLE)
            except queue.Empty:
                item = None
            if item is _STOP:
                self._end_all()
                return
            try:
                self._handle(item)
            except Exception:
                _LOGGER.exception("camera %s: recorder failed", self.camera_id)
            self._end_due(time.monotonic())
            self.cpu_seconds = time.thread_time()

    def _handle(self, item: object) -> None:
        match item:
            case _Held():
                self._take(item)
            case _Begin(event_id, since):
                self._begin(event_id, since)
            case _End(event_id, until):
                if (clip := self._clips.get(event_id)) is not None:
                    clip.until = until + self.config.post_roll
            case _Opened(template, codec):
                self._end_all()  # a new stream: its packets do not continue the old ones
                self._forget()
                self._template = template
                self.recording = self._enabled and self._template is not None
                if self._template is None:
                    _LOGGER.info("camera %s: no clips for %s video", self.camera_id, codec)
            case _Switch(enabled):
                self._enabled = enabled
                self.recording = enabled and self._template is not None
                if not enabled:
                    self._end_all()
                    self._forget()

    def _take(self, held: _Held) -> None:
        if not self._enabled or self._template is None:
            return
        if self.dropped != self._seen_dropped:  # a gap: clips cannot go on across it
            self._seen_dropped = self.dropped
            self._end_all()
        self._ring.append(held)
        self._ring_bytes += held.packet.size
        if held.packet.is_keyframe:
            self._keyframes.append(held.at)
        self._trim(held.at)
        for clip in tuple(self._clips.values()):
            if clip.until is not None and held.at > clip.until:
                self._finish(clip)
                continue
            self._write(clip, held)

    def _trim(self, now: float) -> None:
        """Keep from the last keyframe at least `pre_roll` seconds old (and under RING_BYTES):
        drop what comes before the second keyframe once that one is old enough."""
        keys = self._keyframes
        while len(keys) > 1 and keys[1] <= now - self.config.pre_roll:
            keys.popleft()
            self._drop_to(keys[0])
        while self._ring_bytes > RING_BYTES and len(self._ring) > 1:
            self._drop(self._ring[0])

    def _drop_to(self, keyframe_at: float) -> None:
        while self._ring and not (
            self._ring[0].packet.is_keyframe and self._ring[0].at >= keyframe_at
        ):
            self._drop(self._ring[0])

    def _drop(self, held: _Held) -> None:
        self._ring.popleft()
        self._ring_bytes -= held.packet.size
        if held.packet.is_keyframe and self._keyframes and self._keyframes[0] <= held.at:
            self._keyframes.popleft()

    def _forget(self) -> None:
        self._ring.clear()
        self._keyframes.clear()
        self._ring_bytes = 0

    def _begin(self, event_id: str, since: float) -> None:
        if event_id in self._clips:
            return
        if not self._enabled or self._template is None:  # switched off meanwhile: no clip
            self._report(event_id, True, None)
            return
        start = 0
        for index, held in enumerate(self._ring):
            if held.at > since - self.config.pre_roll:
                break
            if held.packet.is_keyframe:
                start = index
        try:
            clip = _Clip(event_id, self.clips_dir / f"{event_id}.mp4", self._template)
        except (av.error.FFmpegError, OSError) as err:
            _LOGGER.error("camera %s: cannot record a clip: %s", self.camera_id, err)
            self._report(event_id, True, None)
            return
        self._clips[event_id] = clip
        self._report(event_id, False, None)
        for held in islice(self._ring, start, None):
            if not self._write(clip, held):
                return

    def _write(self, clip: _Clip, held: _Held) -> bool:
        """Copy one packet into `clip`; finish the clip when that fails or makes it `max_length`
        long. Return whether the clip is still open."""
        try:
            clip.write(held)
        except (av.error.FFmpegError, OSError, ValueError) as err:
            _LOGGER.error(
                "camera %s: clip of event %s ends early: %s", self.camera_id, clip.event_id, err
            )
        else:
            if clip.seconds < self.config.max_length:
                return True
            _LOGGER.info(
                "camera %s: clip of event %s is %g s long, its limit (record.max_length)",
                self.camera_id,
                clip.event_id,
                self.config.max_length,
            )
        self._finish(clip)
        return False

    def _end_due(self, now: float) -> None:
        """End the clips whose end passed while no packet came (the camera went away)."""
        for clip in tuple(self._clips.values()):
            if clip.until is not None and now > clip.until + IDLE:
                self._finish(clip)

    def _end_all(self) -> None:
        for clip in tuple(self._clips.values()):
            self._finish(clip)

    def _finish(self, clip: _Clip) -> None:
        self._clips.pop(clip.event_id, None)
        self._report(clip.event_id, True, clip.close())

    def _report(self, event_id: str, done: bool, duration: float | None) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with suppress(RuntimeError):
                loop.call_soon_threadsafe(self._on_clip, event_id, done, duration)
