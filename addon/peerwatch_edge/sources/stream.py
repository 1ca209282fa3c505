"""PyAV sources: RTSP, HTTP(S) MJPEG and local video files."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import av
import av.error
import numpy as np

from ..imaging import Picture
from .base import FrameSource, Sampler, SourceError, redact

_LOGGER = logging.getLogger(__name__)


class AvPicture(Picture):
    """A PyAV frame: RGB once, scaled copies straight from the decoded frame."""

    def __init__(self, frame: av.VideoFrame) -> None:
        super().__init__(frame.to_ndarray(format="rgb24"))
        self._frame = frame

    def scaled(self, width: int, height: int) -> np.ndarray:
        """Area-averaged resize by swscale."""
        small = self._frame.reformat(width, height, "rgb24", interpolation="AREA")
        return small.to_ndarray()


class StreamSource(FrameSource):
    """Decode a stream with PyAV (FFmpeg); corrupt packets are skipped and counted.

    Network reads time out after `timeout` seconds, so a stalled stream raises instead of
    hanging. A `file` is sampled by its timestamps, paced to real time unless `realtime` is
    False, and may `loop`.
    """

    def __init__(
        self,
        url: str,
        fps: float,
        *,
        options: dict[str, str] | None = None,
        format: str | None = None,
        timeout: float | None = 10.0,
        file: bool = False,
        realtime: bool = True,
        loop: bool = False,
    ) -> None:
        super().__init__(url, fps)
        self.options = options or {}
        self.format = format
        self.timeout = timeout
        self.is_file = file
        self.realtime = realtime or not file
        self.paced = self.realtime
        self.loop = loop

    def _scrub(self, err: Exception) -> str:
        """The error text naming the URL, with its credentials hidden (FFmpeg quotes it)."""
        shown = redact(self.url)
        return f"{shown}: {str(err).replace(self.url, shown)}"

    def _open(self) -> av.container.InputContainer:
        try:
            return av.open(
                self.url,
                format=self.format,
                options=self.options,
                timeout=None if self.timeout is None else (self.timeout, self.timeout),
            )
        except (av.error.FFmpegError, OSError) as err:
            msg = f"cannot open {self._scrub(err)}"
            raise SourceError(msg) from err

    def frames(self, stop: threading.Event) -> Iterator[Picture]:
        """Yield frames; for files, until the end (or forever when looping)."""
        sampler = Sampler(self.fps)
        offset = 0.0
        started = time.monotonic()
        with self._open() as container:
            if not container.streams.video:
                msg = f"no video stream in {redact(self.url)}"
                raise SourceError(msg)
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            if self.sink is not None:
                self.sink.opened(stream)
            while not stop.is_set():
                last = yield from self._play(
                    container, stream, stop, sampler=sampler, started=started, offset=offset
                )
                if not self.loop or last is None:
                    self.finished = self.is_file
                    return
                offset = last + sampler.period
                self._rewind(container)

    def _rewind(self, container: av.container.InputContainer) -> None:
        """Seek a looping file back to its start: no reopening and probing, decoder kept."""
        try:
            container.seek(0)
        except (av.error.FFmpegError, OSError) as err:
            msg = f"cannot rewind {self._scrub(err)}"
            raise SourceError(msg) from err

    def _decode(self, packet: av.Packet) -> list[av.VideoFrame]:
        try:
            return packet.decode()  # type: ignore[return-value]
        except av.error.InvalidDataError:
            self.decode_errors += 1
            return []

    def _tap(self, packet: av.Packet, offset: float, shift: float | None) -> float | None:
        """Hand a packet to the sink; return the shift of this play (its first packet starts
        at `offset` on the source's timeline)."""
        if self.sink is None or packet.pts is None:
            return shift
        if shift is None:
            shift = offset - float(packet.pts * packet.time_base)
        self.sink.packet(packet, shift)
        return shift

    def _play(
        self,
        container: av.container.InputContainer,
        stream: av.VideoStream,
        stop: threading.Event,
        *,
        sampler: Sampler,
        started: float,
        offset: float,
    ) -> Iterator[Picture]:
        """Play the stream once; return the last stream time seen (None if no frame)."""
        last: float | None = None
        first: float | None = None
        shift: float | None = None
        try:
            for packet in container.demux(stream):
                if stop.is_set():
                    return last
                decoded = self._decode(packet)
                shift = self._tap(packet, offset, shift)
                for frame in decoded:
                    if self.is_file and frame.time is not None:
                        first = frame.time if first is None else first
                        when = offset + frame.time - first
                    else:
                        when = time.monotonic() - started
                    last = when
                    if not sampler.due(when):
                        continue
                    if self.is_file and self.realtime:
                        stop.wait(max(0.0, started + when - time.monotonic()))
                    yield AvPicture(frame)
        except (av.error.FFmpegError, OSError) as err:
            if isinstance(err, av.error.EOFError):
                return last
            msg = f"stream broke: {self._scrub(err)}"
            raise SourceError(msg) from err
        return last
