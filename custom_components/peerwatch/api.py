"""Async client for the Peerwatch edge's local API (DESIGN.md, "Edge local API").

Independent of Home Assistant: it takes an injected `aiohttp.ClientSession` and returns typed
dataclasses, so the integration never does raw HTTP itself. The payloads are parsed as the JSON
Schemas in the repository's docs/schemas define them (the tests check the edge against the same
schemas); a payload missing a field the schema requires raises KeyError.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import aiohttp

_LOGGER = logging.getLogger(__name__)

DEFAULT_PORT = 8778
API_PREFIX = "/api/v1"
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=15)
STREAM_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=10)
"""For responses read as they come (a stream, a clip): no limit but on connecting."""
WS_HEARTBEAT = 30.0
BACKOFF_START = 1.0
BACKOFF_MAX = 60.0
EVENT_PUSHES = frozenset({"event.start", "event.update", "event.end"})


class PeerwatchError(Exception):
    """The edge answered with an error, or something else went wrong talking to it."""


class PeerwatchConnectionError(PeerwatchError):
    """The edge cannot be reached (or did not answer in time)."""


class PeerwatchAuthError(PeerwatchError):
    """The edge refused the token (HTTP 401)."""


class PeerwatchNotFoundError(PeerwatchError):
    """The camera, event or device asked for does not exist on the edge."""


def _time(value: str) -> datetime:
    """Parse a time from the API: ISO-8601 UTC with a trailing Z."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _optional_time(value: str | None) -> datetime | None:
    """Parse a time that may be null."""
    return None if value is None else _time(value)


@dataclass(frozen=True, kw_only=True)
class Camera:
    """A camera's status as the edge reports it."""

    id: str
    name: str
    online: bool
    detection_enabled: bool
    last_frame_at: datetime | None
    fps: float
    error: str | None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Camera:
        """Build from a camera status (schema `camera`)."""
        return cls(
            id=data["id"],
            name=data["name"],
            online=data["online"],
            detection_enabled=data["detection_enabled"],
            last_frame_at=_optional_time(data["last_frame_at"]),
            fps=float(data["fps"]),
            error=data["error"],
        )


@dataclass(frozen=True, kw_only=True)
class EdgeInfo:
    """What `GET /info` says about the edge."""

    id: str
    name: str
    version: str
    peer_id: str | None
    registrar: str
    cameras: dict[str, Camera]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EdgeInfo:
        """Build from the `/info` response (schema `info`; its `ice_servers` are the app's)."""
        cameras = [Camera.from_dict(c) for c in data["cameras"]]
        return cls(
            id=data["edge_id"],
            name=data["name"],
            version=data["version"],
            peer_id=data["peer_id"],
            registrar=data["registrar"],
            cameras={c.id: c for c in cameras},
        )

    @property
    def registrar_connected(self) -> bool:
        """Whether remote access is up (the edge is registered with its registrar)."""
        return self.registrar == "connected"


@dataclass(frozen=True, kw_only=True)
class EdgeMetrics:
    """The figures of `GET /metrics` the integration shows (Prometheus text, parsed)."""

    camera_fps: dict[str, float] = field(default_factory=dict)
    camera_analysis_ms: dict[str, float] = field(default_factory=dict)
    inference_ms: dict[str, float] = field(default_factory=dict)
    inferences: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_text(cls, text: str) -> EdgeMetrics:
        """Parse the samples we use; other families and malformed lines are skipped."""
        wanted = {
            "peerwatch_camera_fps": ("camera", "camera_fps"),
            "peerwatch_camera_analysis_ms": ("camera", "camera_analysis_ms"),
            "peerwatch_inference_ms": ("detector", "inference_ms"),
            "peerwatch_inferences_total": ("detector", "inferences"),
        }
        found: dict[str, dict[str, float]] = {field: {} for _, field in wanted.values()}
        for line in text.splitlines():
            match = _SAMPLE.match(line)
            if match is None or match["name"] not in wanted:
                continue
            label, target = wanted[match["name"]]
            labels = dict(_LABEL.findall(match["labels"] or ""))
            if label in labels:
                found[target][labels[label]] = float(match["value"])
        return cls(**found)

    @property
    def mean_inference_ms(self) -> float | None:
        """The mean inference time over the detectors that have run."""
        values = [ms for name, ms in self.inference_ms.items() if self.inferences.get(name)]
        return round(sum(values) / len(values), 2) if values else None


_SAMPLE = re.compile(r"^(?P<name>[a-z_]+)(?:\{(?P<labels>[^}]*)\})? (?P<value>[-+0-9.eE]+|NaN)$")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


type EventImage = Literal["snapshot.jpg", "thumbnail.jpg", "face.jpg"]
"""The pictures of an event the edge serves."""


@dataclass(frozen=True, kw_only=True)
class Face:
    """The best face seen on a person during their visit."""

    score: float
    has_image: bool

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Face:
        """Build from an event's `face` (schema `event`)."""
        return cls(score=float(data["score"]), has_image=data["has_image"])


@dataclass(frozen=True, kw_only=True)
class Event:
    """One tracked detection (DESIGN.md, Event shape)."""

    id: str
    camera: str
    kind: str
    label: str
    score: float
    started_at: datetime
    updated_at: datetime
    ended_at: datetime | None
    zones: list[str]
    has_snapshot: bool
    face: Face | None = None
    """On a person: the best face seen on them (a face on a person is no event of its own)."""
    has_clip: bool = False
    clip_duration: float | None = None
    """Seconds, once the clip is complete."""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Event:
        """Build from an event (schema `event`)."""
        return cls(
            id=data["id"],
            camera=data["camera"],
            kind=data["kind"],
            label=data["label"],
            score=float(data["score"]),
            started_at=_time(data["started_at"]),
            updated_at=_time(data["updated_at"]),
            ended_at=_optional_time(data["ended_at"]),
            zones=list(data["zones"]),
            has_snapshot=data["has_snapshot"],
            face=Face.from_dict(data["face"]) if data["face"] is not None else None,
            has_clip=data["has_clip"],
            clip_duration=data["clip_duration"],
        )

    @property
    def is_open(self) -> bool:
        """Tell whether the object is still in view."""
        return self.ended_at is None


@dataclass(frozen=True, kw_only=True)
class EventPage:
    """One page of the timeline, newest first; `next` is the cursor for older events."""

    events: list[Event]
    next: str | None


CLIP_HEADERS = ("Content-Type", "Content-Length", "Content-Range", "Accept-Ranges")
"""The headers of the edge's clip response that a proxy passes on."""
CLIP_CHUNK = 64 * 1024


@dataclass(frozen=True, kw_only=True)
class Clip:
    """An event's clip (or the byte range asked for) as the edge answers it, read as it comes."""

    status: int
    """200, 206 for a range, or 416 for a range past the end."""
    headers: dict[str, str]
    """Those of CLIP_HEADERS the edge sent."""
    recording: bool
    """The clip is still being recorded: this is the part written so far."""
    body: aiohttp.StreamReader
    """Read it in chunks (`iter_chunked(CLIP_CHUNK)`); a broken transfer raises ClientError."""


@dataclass(frozen=True, kw_only=True)
class PairedDevice:
    """A phone or laptop paired for remote access."""

    id: str
    name: str
    created_at: datetime
    last_seen: datetime | None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PairedDevice:
        """Build from a `/devices` item (schema `devices`)."""
        return cls(
            id=data["id"],
            name=data["name"],
            created_at=_time(data["created_at"]),
            last_seen=_optional_time(data["last_seen"]),
        )


@dataclass(frozen=True, kw_only=True)
class PairingCode:
    """A short code to type into the PWA, valid until `expires_at`."""

    code: str
    expires_at: datetime


@dataclass(frozen=True, kw_only=True)
class PushMessage:
    """One WebSocket message (schema `ws`): an event change, a camera status, or the greeting
    with all cameras; a type this client does not know keeps only its type."""

    type: str
    event: Event | None = None
    camera: Camera | None = None
    cameras: list[Camera] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PushMessage:
        """Build from a WebSocket JSON message."""
        kind = str(data["type"])
        if kind in EVENT_PUSHES:
            return cls(type=kind, event=Event.from_dict(data["event"]))
        if kind == "camera.status":
            return cls(type=kind, camera=Camera.from_dict(data["camera"]))
        if kind == "hello":
            return cls(type=kind, cameras=[Camera.from_dict(c) for c in data["cameras"]])
        return cls(type=kind)


class PeerwatchClient:
    """Talks to one edge over HTTP and its WebSocket push."""

    def __init__(self, session: aiohttp.ClientSession, host: str, port: int, token: str) -> None:
        """Keep the session (owned by the caller) and the edge's address and token."""
        self._session = session
        self.host = host
        self.port = port
        self._token = token

    @property
    def base_url(self) -> str:
        """The API root, e.g. `http://host:8778/api/v1`."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{API_PREFIX}"

    @property
    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Mapping[str, object] | None = None,
    ) -> aiohttp.ClientResponse:
        """Send a request and return the (read) response, mapping failures to our errors."""
        try:
            resp = await self._session.request(
                method,
                self.base_url + path,
                headers=self._headers,
                params=params,
                json=json,
                timeout=REQUEST_TIMEOUT,
            )
            await resp.read()
        except (TimeoutError, aiohttp.ClientError) as err:
            msg = f"cannot reach the edge at {self.host}:{self.port}: {err}"
            raise PeerwatchConnectionError(msg) from err
        _raise_for_status(resp, await resp.text(errors="replace"))
        return resp

    async def _json(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Mapping[str, object] | None = None,
    ) -> dict[str, Any]:
        resp = await self._request(method, path, params=params, json=json)
        try:
            data = await resp.json()
        except (aiohttp.ContentTypeError, ValueError) as err:
            msg = f"{method} {path}: the edge did not answer JSON"
            raise PeerwatchError(msg) from err
        if not isinstance(data, dict):
            msg = f"{method} {path}: the edge did not answer a JSON object"
            raise PeerwatchError(msg)
        return data

    async def _bytes(self, path: str) -> bytes:
        resp = await self._request("GET", path)
        return await resp.read()

    async def info(self) -> EdgeInfo:
        """Return the edge's identity, registrar status and cameras."""
        return EdgeInfo.from_dict(await self._json("GET", "/info"))

    async def metrics(self) -> EdgeMetrics:
        """Return the edge's pipeline figures (frame rates, analysis and inference times)."""
        resp = await self._request("GET", "/metrics")
        return EdgeMetrics.from_text(await resp.text())

    async def set_detection(self, camera: str, enabled: bool) -> Camera:
        """Turn detection on a camera on or off; return its new status."""
        data = await self._json("PATCH", f"/cameras/{camera}", json={"detection_enabled": enabled})
        return Camera.from_dict(data)

    async def camera_snapshot(self, camera: str) -> bytes:
        """Return the camera's latest frame as JPEG."""
        return await self._bytes(f"/cameras/{camera}/snapshot.jpg")

    async def event_image(self, event_id: str, name: EventImage = "snapshot.jpg") -> bytes:
        """Return an event's picture as JPEG: its best snapshot, the thumbnail, or the crop of
        the face seen on its person."""
        return await self._bytes(f"/events/{event_id}/{name}")

    async def events(
        self,
        *,
        camera: str | None = None,
        label: str | None = None,
        kind: str | None = None,
        before: str | None = None,
        limit: int = 50,
    ) -> EventPage:
        """Return one page of events, newest first."""
        given = {"camera": camera, "label": label, "kind": kind, "before": before}
        params = {k: v for k, v in given.items() if v is not None} | {"limit": str(limit)}
        data = await self._json("GET", "/events", params=params)
        return EventPage(events=[Event.from_dict(e) for e in data["events"]], next=data["next"])

    async def webrtc_offer(self, camera: str, sdp: str) -> str:
        """Send a WebRTC SDP offer for a camera's live view; return the answer SDP."""
        data = await self._json(
            "POST", f"/cameras/{camera}/webrtc", json={"sdp": sdp, "type": "offer"}
        )
        return str(data["sdp"])

    async def _open(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        passed: frozenset[int] = frozenset(),
    ) -> aiohttp.ClientResponse:
        """Send a request whose body the caller reads and releases; an error status (but those
        `passed`) raises our errors."""
        try:
            resp = await self._session.request(
                method,
                self.base_url + path,
                headers=self._headers | dict(headers or {}),
                timeout=STREAM_TIMEOUT,
            )
        except (TimeoutError, aiohttp.ClientError) as err:
            msg = f"cannot reach the edge at {self.host}:{self.port}: {err}"
            raise PeerwatchConnectionError(msg) from err
        if resp.status >= 400 and resp.status not in passed:
            body = await resp.text(errors="replace")
            resp.release()
            _raise_for_status(resp, body)
        return resp

    async def mjpeg_stream(self, camera: str) -> aiohttp.ClientResponse:
        """Open the camera's MJPEG stream; the caller reads and releases the response."""
        return await self._open("GET", f"/cameras/{camera}/stream.mjpeg")

    @asynccontextmanager
    async def event_clip(
        self, event_id: str, *, byte_range: str | None = None, head: bool = False
    ) -> AsyncIterator[Clip]:
        """Open an event's clip (MP4), or the part `byte_range` (an HTTP Range value) asks for,
        to read its body as it comes (`head`: headers only); released on leaving the block.

        A range past the end is no error (status 416); a missing clip raises
        PeerwatchNotFoundError. While the clip is recorded the edge serves the part so far.
        """
        resp = await self._open(
            "HEAD" if head else "GET",
            f"/events/{event_id}/clip.mp4",
            headers={"Range": byte_range} if byte_range else None,
            passed=frozenset({416}),
        )
        try:
            yield Clip(
                status=resp.status,
                headers={k: resp.headers[k] for k in CLIP_HEADERS if k in resp.headers},
                recording=resp.headers.get("Peerwatch-Clip") == "recording",
                body=resp.content,
            )
        finally:
            resp.release()

    async def devices(self) -> list[PairedDevice]:
        """Return the paired remote devices."""
        data = await self._json("GET", "/devices")
        return [PairedDevice.from_dict(d) for d in data["devices"]]

    async def revoke_device(self, device_id: str) -> None:
        """Revoke a paired device: it can no longer connect."""
        await self._request("DELETE", f"/devices/{device_id}")

    async def start_pairing(self) -> PairingCode:
        """Start pairing a phone; return the code the owner types into the PWA."""
        data = await self._json("POST", "/pairing")
        return PairingCode(code=data["code"], expires_at=_time(data["expires_at"]))

    async def listen(
        self,
        on_message: Callable[[PushMessage], None],
        on_connected: Callable[[bool], Awaitable[None]],
    ) -> None:
        """Follow the WebSocket push forever, reconnecting with exponential back-off.

        `on_connected(True)` runs after each (re)connect, `on_connected(False)` after each drop.
        Returns only by cancellation; raises PeerwatchAuthError when the token is refused.
        """
        delay = BACKOFF_START
        while True:
            try:
                async with self._session.ws_connect(
                    f"{self.base_url}/ws", headers=self._headers, heartbeat=WS_HEARTBEAT
                ) as ws:
                    delay = BACKOFF_START
                    await on_connected(True)
                    async for msg in ws:
                        if msg.type is not aiohttp.WSMsgType.TEXT:
                            break
                        self._dispatch(msg.data, on_message)
            except aiohttp.WSServerHandshakeError as err:
                if err.status == 401:
                    raise PeerwatchAuthError(str(err)) from err
                _LOGGER.debug("WebSocket refused by the edge: %s", err)
            except (TimeoutError, aiohttp.ClientError) as err:
                _LOGGER.debug("WebSocket to the edge failed: %s", err)
            await on_connected(False)
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX)

    @staticmethod
    def _dispatch(text: str, on_message: Callable[[PushMessage], None]) -> None:
        """Parse one push and hand it on; a malformed message is logged and dropped."""
        try:
            message = PushMessage.from_dict(_loads(text))
        except (ValueError, KeyError, TypeError) as err:
            _LOGGER.warning("Ignoring a malformed push from the edge (%s): %.200s", err, text)
            return
        on_message(message)


def _loads(text: str) -> dict[str, Any]:
    """Decode a JSON object."""
    data = json.loads(text)
    if not isinstance(data, dict):
        msg = "not a JSON object"
        raise TypeError(msg)
    return data


def _raise_for_status(resp: aiohttp.ClientResponse, body: str) -> None:
    """Map an HTTP error status to our exceptions."""
    if resp.status < 400:
        return
    message = body[:200]
    if resp.status == 401:
        raise PeerwatchAuthError(message or "the edge refused the token")
    if resp.status == 404:
        raise PeerwatchNotFoundError(message or f"{resp.url.path} not found")
    msg = f"{resp.method} {resp.url.path} → HTTP {resp.status}: {message}"
    raise PeerwatchError(msg)
