"""The API client against an in-process aiohttp server that speaks the edge API's shape.

The fake edge serves the recorded payloads in `fixtures/` with the real API's rules (bearer
token, JSON errors, cursor paging, WebSocket `hello` then pushes); `test_real_edge.py` covers
the real edge process.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest.mock import patch

import aiohttp
import pytest
from aiohttp import web
from aiohttp.typedefs import Handler
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN, STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.peerwatch import api
from custom_components.peerwatch.api import (
    PeerwatchAuthError,
    PeerwatchClient,
    PeerwatchConnectionError,
    PeerwatchError,
    PeerwatchNotFoundError,
    PushMessage,
)
from custom_components.peerwatch.const import CONF_LABELS, DOMAIN
from tests.support import free_port, wait_for_async

from .conftest import EDGE_ID, FIXTURES, payload

pytestmark = pytest.mark.usefixtures("socket_enabled")
TOKEN = "fake-edge-token"
JPEG = b"\xff\xd8fake\xff\xd9"


@dataclass
class FakeEdge:
    """An aiohttp app with the edge API's routes, serving recorded payloads."""

    port: int = field(default_factory=free_port)
    pushes: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    broken: str | None = None
    runner: web.AppRunner | None = None
    requests: list[str] = field(default_factory=list)
    clips: dict[str, Path] = field(default_factory=dict)
    recording: set[str] = field(default_factory=set)

    @web.middleware
    async def auth(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.requests.append(f"{request.method} {request.path_qs}")
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response(
                {"error": "unauthorized", "message": "missing or wrong token"}, status=401
            )
        if self.broken == "500":
            return web.json_response({"error": "internal", "message": "boom"}, status=500)
        if self.broken == "text":
            return web.Response(text="not json")
        if self.broken == "list":
            return web.json_response([1, 2])
        return await handler(request)

    async def start(self) -> FakeEdge:
        app = web.Application(middlewares=[self.auth])
        app.router.add_get("/api/v1/info", self.recorded)
        app.router.add_get("/api/v1/devices", self.recorded)
        app.router.add_delete("/api/v1/devices/{id}", self.delete_device)
        app.router.add_get("/api/v1/events", self.events)
        app.router.add_get("/api/v1/events/{id}/clip.mp4", self.clip)
        app.router.add_get("/api/v1/events/{id}/{image}", self.image)
        app.router.add_get("/api/v1/metrics", self.metrics)
        app.router.add_patch("/api/v1/cameras/{id}", self.patch_camera)
        app.router.add_get("/api/v1/cameras/{id}/snapshot.jpg", self.image)
        app.router.add_get("/api/v1/cameras/{id}/stream.mjpeg", self.mjpeg)
        app.router.add_post("/api/v1/cameras/{id}/webrtc", self.webrtc)
        app.router.add_post("/api/v1/pairing", self.pairing)
        app.router.add_get("/api/v1/ws", self.ws)
        self.runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        return self

    async def stop(self) -> None:
        for _ in self.sockets:
            self.pushes.put_nowait({"close": True})
        assert self.runner is not None
        await self.runner.cleanup()
        await asyncio.sleep(0.05)  # let the server's request tasks finish

    async def recorded(self, request: web.Request) -> web.Response:
        return web.json_response(payload(request.path.rsplit("/", 1)[1] + ".json"))

    async def metrics(self, _: web.Request) -> web.Response:
        return web.Response(text=(FIXTURES / "metrics.txt").read_text())

    async def delete_device(self, request: web.Request) -> web.Response:
        if request.match_info["id"] != "dev-1":
            return web.json_response({"error": "not_found", "message": "device"}, status=404)
        return web.Response(status=204)

    async def events(self, request: web.Request) -> web.Response:
        events = payload("events.json")["events"]
        if camera := request.query.get("camera"):
            events = [e for e in events if e["camera"] == camera]
        if before := request.query.get("before"):
            events = [e for e in events if e["id"] < before.rsplit(",", 1)[1]]
        limit = int(request.query.get("limit", "50"))
        page = events[:limit]
        more = len(events) > limit
        cursor = f"{page[-1]['started_at']},{page[-1]['id']}" if more else None
        return web.json_response({"events": page, "next": cursor})

    async def image(self, request: web.Request) -> web.Response:
        if request.match_info["id"] == "missing":
            return web.json_response({"error": "not_found", "message": "no snapshot"}, status=404)
        return web.Response(body=JPEG, content_type="image/jpeg")

    async def clip(self, request: web.Request) -> web.StreamResponse:
        """A clip file with the edge's headers (Range, HEAD and 416 are aiohttp's, as there)."""
        event_id = request.match_info["id"]
        if event_id not in self.clips:
            return web.json_response({"error": "not_found", "message": "no clip"}, status=404)
        recording = event_id in self.recording
        headers = {
            "Content-Type": "video/mp4",
            "Cache-Control": "no-store" if recording else "max-age=3600",
            "Peerwatch-Clip": "recording" if recording else "complete",
        }
        return web.FileResponse(self.clips[event_id], headers=headers)

    async def patch_camera(self, request: web.Request) -> web.Response:
        body = await request.json()
        camera = payload("info.json")["cameras"][0]
        return web.json_response({**camera, "detection_enabled": body["detection_enabled"]})

    async def mjpeg(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["id"] != "front_door":
            return web.json_response({"error": "not_found", "message": "camera"}, status=404)
        response = web.StreamResponse(
            headers={"Content-Type": "multipart/x-mixed-replace; boundary=f"}
        )
        await response.prepare(request)
        await response.write(b"--f\r\nContent-Type: image/jpeg\r\n\r\n" + JPEG + b"\r\n")
        return response

    async def webrtc(self, request: web.Request) -> web.Response:
        body = await request.json()
        assert body["type"] == "offer"
        return web.json_response({"sdp": body["sdp"].replace("offer", "answer"), "type": "answer"})

    async def pairing(self, request: web.Request) -> web.Response:
        assert not await request.read(), "POST /pairing takes no body"
        return web.json_response(
            {"code": "123456", "expires_at": "2026-11-25T07:05:00Z"}, status=201
        )

    async def ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_json(
            {"type": "hello", "edge_id": EDGE_ID, "cameras": payload("info.json")["cameras"]}
        )
        while True:
            message = await self.pushes.get()
            if message.get("close") or ws.closed:
                await ws.close()
                break
            await ws.send_str(message["raw"]) if "raw" in message else await ws.send_json(message)
        return ws


def fake_edge_entry(edge: FakeEdge) -> MockConfigEntry:
    """The integration's config entry for `edge` (its person sensors on)."""
    return MockConfigEntry(
        domain=DOMAIN,
        unique_id=EDGE_ID,
        title="Home edge",
        data={CONF_HOST: "127.0.0.1", CONF_PORT: edge.port, CONF_TOKEN: TOKEN},
        options={CONF_LABELS: ["person"]},
    )


@pytest.fixture
async def edge() -> AsyncIterator[FakeEdge]:
    fake = await FakeEdge().start()
    yield fake
    await fake.stop()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def _client(session: aiohttp.ClientSession, edge: FakeEdge, token: str = TOKEN) -> PeerwatchClient:
    return PeerwatchClient(session, "127.0.0.1", edge.port, token)


async def test_reads(session: aiohttp.ClientSession, edge: FakeEdge) -> None:
    client = _client(session, edge)
    assert client.base_url == f"http://127.0.0.1:{edge.port}/api/v1"
    assert PeerwatchClient(session, "::1", 8778, "t").base_url == "http://[::1]:8778/api/v1"
    info = await client.info()
    assert (info.id, info.name, info.registrar_connected) == (EDGE_ID, "Home edge", True)
    assert info.cameras["garden"].detection_enabled is False
    devices = await client.devices()
    assert [d.name for d in devices] == ["Pixel 8"]
    metrics = await client.metrics()
    assert metrics.camera_fps == {"front_door": 4.9, "garden": 5.0}
    assert metrics.mean_inference_ms == 20.0, "pose never ran, so it does not count"

    page = await client.events(camera="front_door", limit=1)
    assert [e.id for e in page.events] == ["ev3"]
    assert page.events[0].is_open
    assert page.next == "2026-11-25T06:01:00Z,ev3"
    older = await client.events(camera="front_door", before=page.next, limit=1)
    assert [e.id for e in older.events] == ["ev1"]
    assert older.next is None
    assert "GET /api/v1/events?camera=front_door&limit=1" in edge.requests

    assert await client.camera_snapshot("front_door") == JPEG
    assert await client.event_image("ev3") == JPEG
    assert await client.event_image("ev3", "thumbnail.jpg") == JPEG
    assert "GET /api/v1/events/ev3/thumbnail.jpg" in edge.requests


async def test_commands(session: aiohttp.ClientSession, edge: FakeEdge) -> None:
    client = _client(session, edge)
    camera = await client.set_detection("front_door", False)
    assert camera.detection_enabled is False
    assert await client.webrtc_offer("front_door", "v=0 offer") == "v=0 answer"
    pairing = await client.start_pairing()
    assert pairing.code == "123456"
    assert pairing.expires_at is not None
    await client.revoke_device("dev-1")
    with pytest.raises(PeerwatchNotFoundError):
        await client.revoke_device("nope")
    resp = await client.mjpeg_stream("front_door")
    assert JPEG in await resp.content.read()
    resp.release()
    with pytest.raises(PeerwatchNotFoundError):
        await client.mjpeg_stream("nope")


async def test_errors(session: aiohttp.ClientSession, edge: FakeEdge) -> None:
    with pytest.raises(PeerwatchAuthError, match="missing or wrong token"):
        await _client(session, edge, "wrong").info()
    with pytest.raises(PeerwatchAuthError):
        await _client(session, edge, "wrong").mjpeg_stream("front_door")
    with pytest.raises(PeerwatchNotFoundError):
        await _client(session, edge).event_image("missing")
    for broken, message in (
        ("500", "HTTP 500"),
        ("text", "did not answer JSON"),
        ("list", "object"),
    ):
        edge.broken = broken
        with pytest.raises(PeerwatchError, match=message):
            await _client(session, edge).info()
    closed = PeerwatchClient(session, "127.0.0.1", free_port(), TOKEN)
    with pytest.raises(PeerwatchConnectionError):
        await closed.info()
    with pytest.raises(PeerwatchConnectionError):
        await closed.mjpeg_stream("front_door")


async def test_listen_pushes_and_reconnects(session: aiohttp.ClientSession, edge: FakeEdge) -> None:
    client = _client(session, edge)
    messages: list[PushMessage] = []
    states: list[bool] = []
    connected = asyncio.Event()

    async def on_connected(up: bool) -> None:
        states.append(up)
        if up:
            connected.set()

    with patch.object(api, "BACKOFF_START", 0.01):
        task = asyncio.create_task(client.listen(messages.append, on_connected))
        await asyncio.wait_for(connected.wait(), 30)
        edge.pushes.put_nowait({"raw": "{not json"})
        edge.pushes.put_nowait({"raw": "[1]"})
        edge.pushes.put_nowait({"raw": '{"type": "hello"}'})  # no cameras: not the edge's shape
        edge.pushes.put_nowait(
            {"type": "event.start", "event": payload("events.json")["events"][0]}
        )
        edge.pushes.put_nowait({"close": True})
        connected.clear()
        await asyncio.wait_for(connected.wait(), 30)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert [m.type for m in messages] == ["hello", "event.start", "hello"]
    assert messages[0].cameras[0].id == "front_door"
    assert messages[1].event is not None
    assert messages[1].event.id == "ev3"
    assert states == [True, False, True]


async def test_listen_refused_token(session: aiohttp.ClientSession, edge: FakeEdge) -> None:
    async def on_connected(up: bool) -> None:
        pytest.fail("must not connect")

    with pytest.raises(PeerwatchAuthError):
        await _client(session, edge, "wrong").listen(lambda _: None, on_connected)


async def test_listen_keeps_retrying_while_edge_is_down(session: aiohttp.ClientSession) -> None:
    client = PeerwatchClient(session, "127.0.0.1", free_port(), TOKEN)
    states: list[bool] = []
    retried = asyncio.Event()

    async def on_connected(up: bool) -> None:
        states.append(up)
        if len(states) == 3:
            retried.set()

    with patch.object(api, "BACKOFF_START", 0.01):
        task = asyncio.create_task(client.listen(lambda _: None, on_connected))
        await asyncio.wait_for(retried.wait(), 30)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert set(states) == {False}


async def test_integration_over_http(hass: HomeAssistant, edge: FakeEdge) -> None:
    """The whole integration with its real client against the fake edge over loopback."""
    entry = fake_edge_entry(edge)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get("binary_sensor.garden_person_occupancy").state == STATE_OFF
    await wait_for_async(lambda: edge.sockets, "the integration's WebSocket")
    start = {**payload("events.json")["events"][0], "id": "ws1", "camera": "garden"}
    edge.pushes.put_nowait({"type": "event.start", "event": start})

    async def occupied() -> bool:
        await hass.async_block_till_done()
        return hass.states.get("binary_sensor.garden_person_occupancy").state == STATE_ON

    await wait_for_async(occupied, "occupancy on")
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
