"""Live video over WebRTC: one aiortc peer connection per viewer, fed by the camera's frames."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from contextlib import AsyncExitStack
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Final

from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError
from av import VideoFrame

from .errors import ApiError, bad_request

if TYPE_CHECKING:
    from ..camera import Camera, FrameSubscription

_LOGGER = logging.getLogger(__name__)

CLOCK_RATE: Final = 90_000
TIME_BASE: Final = Fraction(1, CLOCK_RATE)
MAX_SESSIONS: Final = 4
CONNECT_TIMEOUT: Final = 30.0
ANSWER_TIMEOUT: Final = 10.0


class CameraTrack(MediaStreamTrack):
    """A video track of a camera's live frames (newest frame only; slow peers skip frames)."""

    kind = "video"

    def __init__(self, camera: Camera) -> None:
        super().__init__()
        self._camera = camera
        self._stack = AsyncExitStack()
        self._feed: FrameSubscription | None = None
        self._start: float | None = None
        self._pts = -1

    async def recv(self) -> VideoFrame:
        """The next camera frame as an RGB `VideoFrame` with a 90 kHz timestamp."""
        if self.readyState != "live":
            raise MediaStreamError
        if self._feed is None:
            self._feed = await self._stack.enter_async_context(self._camera.subscribe_frames())
        frame = await anext(self._feed)
        if self._start is None:
            self._start = frame.monotonic
        self._pts = max(self._pts + 1, int((frame.monotonic - self._start) * CLOCK_RATE))
        video = VideoFrame.from_ndarray(frame.image, format="rgb24")
        video.pts, video.time_base = self._pts, TIME_BASE
        return video

    def stop(self) -> None:
        """End the track and drop the frame subscription."""
        super().stop()
        with contextlib.suppress(RuntimeError):
            asyncio.get_running_loop().create_task(self._stack.aclose())


def _ice_servers(servers: Iterable[dict[str, Any]]) -> list[RTCIceServer]:
    return [
        RTCIceServer(
            urls=server["urls"],
            username=server.get("username"),
            credential=server.get("credential"),
        )
        for server in servers
    ]


class WebRtcSessions:
    """The open peer connections: limited in number, closed when they fail or on shutdown."""

    def __init__(
        self, ice_servers: Iterable[dict[str, Any]] = (), max_sessions: int = MAX_SESSIONS
    ) -> None:
        self._config = RTCConfiguration(iceServers=_ice_servers(ice_servers))
        self._max = max_sessions
        self._pcs: set[RTCPeerConnection] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._pcs)

    async def answer(self, camera: Camera, offer_sdp: str) -> RTCSessionDescription:
        """Answer a viewer's offer with a track of `camera`; the answer carries all candidates."""
        if len(self._pcs) >= self._max:
            raise ApiError(429, "too_many_sessions", f"at most {self._max} live WebRTC sessions")
        pc = RTCPeerConnection(self._config)
        self._pcs.add(pc)

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            _LOGGER.debug("WebRTC %s: %s", camera.id, pc.connectionState)
            if pc.connectionState in ("failed", "closed"):
                await self._close(pc)

        try:
            async with asyncio.timeout(ANSWER_TIMEOUT):
                await pc.setRemoteDescription(RTCSessionDescription(offer_sdp, "offer"))
                pc.addTrack(CameraTrack(camera))
                await pc.setLocalDescription(await pc.createAnswer())  # gathers ICE candidates
        except Exception as err:  # aiortc raises any kind (or hangs) on SDP it cannot use
            await self._close(pc)
            reason = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
            raise bad_request(f"sdp: cannot answer this offer ({reason})") from None
        except BaseException:
            await self._close(pc)
            raise
        self._watch(pc)
        _LOGGER.info("WebRTC live view of %s started (%d open)", camera.id, len(self._pcs))
        return pc.localDescription

    def _watch(self, pc: RTCPeerConnection) -> None:
        """Close a connection that is not up within `CONNECT_TIMEOUT` (the viewer went away)."""

        async def watchdog() -> None:
            await asyncio.sleep(CONNECT_TIMEOUT)
            if pc.connectionState != "connected":
                _LOGGER.info("WebRTC session not connected after %.0f s: closed", CONNECT_TIMEOUT)
                await self._close(pc)

        task = asyncio.create_task(watchdog(), name="webrtc-watchdog")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _close(self, pc: RTCPeerConnection) -> None:
        if pc in self._pcs:
            self._pcs.discard(pc)
            for sender in pc.getSenders():
                if sender.track is not None:
                    sender.track.stop()
            with contextlib.suppress(Exception):  # aiortc can trip over an offer applied in part
                await pc.close()

    async def close_all(self) -> None:
        """Close every session (on shutdown)."""
        for task in tuple(self._tasks):
            task.cancel()
        await asyncio.gather(*(self._close(pc) for pc in tuple(self._pcs)))
