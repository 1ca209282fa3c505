"""The frame source interface and its sampling clock."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit, urlunsplit

from ..imaging import Picture

if TYPE_CHECKING:
    import av


def redact(url: str) -> str:
    """Hide the credentials in a URL for logs and status."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class SourceError(Exception):
    """The stream could not be opened or broke; the camera reconnects with back-off."""


class PacketSink(Protocol):
    """Takes a stream's compressed video packets as they are read (e.g. to record clips)."""

    def opened(self, stream: av.VideoStream) -> None:
        """The stream was (re)opened: the packets that follow are this stream's."""

    def packet(self, packet: av.Packet, shift: float) -> None:
        """One demuxed packet, after the reader is done with it; `packet.pts` seconds plus
        `shift` is its time on the source's timeline, which goes on across a file's loops."""


class FrameSource(ABC):
    """A camera's frames as `Picture`s, sampled to `fps`."""

    def __init__(self, url: str, fps: float) -> None:
        self.url = url
        self.fps = fps
        self.decode_errors = 0
        self.finished = False
        """True once a source that does not loop reached its end."""
        self.paced = True
        """False for a file read as fast as it is analysed: the camera then takes every frame."""
        self.sink: PacketSink | None = None
        """Where compressed packets go, for sources that have them (set before `frames`)."""

    @abstractmethod
    def frames(self, stop: threading.Event) -> Iterator[Picture]:
        """Connect and yield sampled frames until `stop` is set or the stream ends."""


class Sampler:
    """Keep one frame per 1/fps seconds of stream time."""

    def __init__(self, fps: float) -> None:
        self.period = 1.0 / fps
        self._next: float | None = None

    def due(self, when: float) -> bool:
        """True when the frame at stream time `when` should be kept."""
        if self._next is None or when >= self._next or when < self._next - 2 * self.period:
            base = when if self._next is None or when - self._next > self.period else self._next
            self._next = base + self.period
            return True
        return False
