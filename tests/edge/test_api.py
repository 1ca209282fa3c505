"""Contract tests of the local API against a real edge process on loopback.

One edge (`python -m peerwatch_edge --config ...`) runs for the module: a file camera looping the
fixture video through the real models, a store seeded with older events (through the real
`EventStore`) and a paired device (through the real `DeviceRegistry`). Ingress is on, allowed
only from 127.0.0.2, so the tests can be both the Supervisor's proxy and a stranger.
"""

from __future__ import annotations

import asyncio
import io
import json
import statistics
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription
from PIL import Image

from peerwatch_edge.devices import DeviceRegistry
from peerwatch_edge.model import Event, Kind
from peerwatch_edge.store import EventStore
from tests.support import EdgeProcess, camera_config, edge_config, start_edge, wait_for_async

pytestmark = pytest.mark.slow

WIDTH, HEIGHT = 1280, 720
SEEDED = 7
INGRESS_PROXY = "127.0.0.2"


@dataclass(kw_only=True)
class EdgeUnderTest(EdgeProcess):
    """The running edge, with what was seeded into it before it started."""

    device_id: str
    seeded: list[str]


def _jpeg(color: str, size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG")
    return out.getvalue()


async def _seed(data_dir: Path) -> tuple[list[str], str]:
    """Older events (newest first) in the real store, and one paired device."""
    store = EventStore(data_dir)
    await store.open()
    start = datetime.now(UTC) - timedelta(days=1)
    ids = []
    for n in range(SEEDED):
        when = start + timedelta(minutes=n)
        event = Event(
            id=f"seed{n:02d}",
            camera="old_cam" if n % 2 else "cam1",
            kind=Kind.FACE if n == 3 else Kind.OBJECT,
            label="face" if n == 3 else "dog",
            score=0.7,
            started_at=when,
            updated_at=when,
            ended_at=when + timedelta(seconds=5),
            box=(0.1, 0.1, 0.5, 0.5),
        )
        snapshot = (_jpeg("red", (320, 180)), _jpeg("red", (160, 90))) if n != 0 else None
        assert await store.save(event, snapshot)
        ids.append(event.id)
    await store.close()
    registry = DeviceRegistry(data_dir)
    registry.start_pairing()
    device = await registry.complete_pairing("Test phone")
    return ids[::-1], device.id


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EdgeUnderTest]:
    tmp = tmp_path_factory.mktemp("api")
    data_dir = tmp / "data"
    seeded, device_id = asyncio.run(_seed(data_dir))
    pwa = tmp / "pwa"
    pwa.mkdir()
    (pwa / "index.html").write_text("<!doctype html><html><head><title>PW</title></head></html>")
    (pwa / "app.js").write_text("console.log('peerwatch');\n")
    config = edge_config(data_dir, camera_config(end_after=1, motion={"interval": 0.5}))
    process = start_edge(config, tmp, ingress_allow=INGRESS_PROXY, pwa_dir=pwa)
    try:
        yield EdgeUnderTest(**vars(process), device_id=device_id, seeded=seeded)
    finally:
        process.stop()
        assert "ERROR peerwatch_edge.api" not in process.log(), process.log()


@pytest.fixture
async def client(edge: EdgeUnderTest) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(edge.url, headers=edge.auth) as session:
        yield session


@pytest.fixture
async def anonymous(edge: EdgeUnderTest) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(edge.url) as session:
        yield session


async def _error(resp: aiohttp.ClientResponse, status: int) -> dict[str, str]:
    """Assert a JSON error body of `status` and return it."""
    assert resp.status == status, await resp.text()
    assert resp.content_type == "application/json"
    body = await resp.json()
    assert set(body) == {"error", "message"}, body
    assert "Traceback" not in body["message"]
    return body


async def _wait_for_frame(client: aiohttp.ClientSession) -> None:
    async def served() -> bool:
        async with client.get("/api/v1/cameras/cam1/snapshot.jpg") as resp:
            return resp.status == 200

    await wait_for_async(served, "a frame from the camera")


async def _no_live_event(client: aiohttp.ClientSession) -> None:
    """Wait until every event of cam1 has ended (the tracker ends them when detection is off)."""

    async def all_ended() -> bool:
        async with client.get("/api/v1/events", params={"camera": "cam1"}) as resp:
            events = (await resp.json())["events"]
        return all(event["ended_at"] is not None for event in events)

    await wait_for_async(all_ended, "no live event on cam1")


# --- auth ------------------------------------------------------------------------------------

PROTECTED = [
    ("GET", "/api/v1/info"),
    ("GET", "/api/v1/cameras"),
    ("GET", "/api/v1/cameras/cam1"),
    ("PATCH", "/api/v1/cameras/cam1"),
    ("GET", "/api/v1/cameras/cam1/snapshot.jpg"),
    ("GET", "/api/v1/cameras/cam1/stream.mjpeg"),
    ("POST", "/api/v1/cameras/cam1/webrtc"),
    ("GET", "/api/v1/events"),
    ("GET", "/api/v1/events/seed01"),
    ("DELETE", "/api/v1/events/seed01"),
    ("GET", "/api/v1/events/seed01/snapshot.jpg"),
    ("GET", "/api/v1/events/seed01/thumbnail.jpg"),
    ("GET", "/api/v1/ws"),
    ("GET", "/api/v1/devices"),
    ("DELETE", "/api/v1/devices/whatever"),
    ("POST", "/api/v1/pairing"),
    ("GET", "/api/v1/metrics"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
@pytest.mark.parametrize("token", [None, "wrong", ""])
async def test_protected_routes_refuse_missing_or_wrong_token(
    anonymous: aiohttp.ClientSession, method: str, path: str, token: str | None
) -> None:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    async with anonymous.request(method, path, headers=headers, json={}) as resp:
        body = await _error(resp, 401)
    assert body["error"] == "unauthorized"
    assert resp.headers["WWW-Authenticate"] == "Bearer"


async def test_query_token_only_on_the_websocket(
    anonymous: aiohttp.ClientSession, edge: EdgeUnderTest
) -> None:
    async with anonymous.get("/api/v1/info", params={"token": edge.token}) as resp:
        await _error(resp, 401)
    async with anonymous.get("/api/v1/ws", params={"token": "nope"}) as resp:
        await _error(resp, 401)
    async with anonymous.ws_connect("/api/v1/ws", params={"token": edge.token}) as ws:
        hello = await ws.receive_json(timeout=30)
    assert hello["type"] == "hello"


async def test_health_needs_no_token(anonymous: aiohttp.ClientSession) -> None:
    async with anonymous.get("/api/v1/health") as resp:
        assert resp.status == 200
        assert (await resp.json())["status"] == "ok"


def test_token_file_is_private(edge: EdgeUnderTest) -> None:
    assert (edge.data_dir / "api_token").stat().st_mode & 0o777 == 0o600
    assert len(edge.token) >= 40


# --- info, cameras ---------------------------------------------------------------------------


async def test_info(client: aiohttp.ClientSession, edge: EdgeUnderTest) -> None:
    async with client.get("/api/v1/info") as resp:
        info = await resp.json()
    assert info["edge_id"] == (edge.data_dir / "edge_id").read_text().strip()
    assert info["version"] == "0.1.0"
    assert info["registrar"] == "disabled"
    assert info["peer_id"] is None
    assert [c["id"] for c in info["cameras"]] == ["cam1"]
    async with client.get("/api/v1/info") as resp:
        assert (await resp.json())["edge_id"] == info["edge_id"]


async def test_cameras_and_snapshot(client: aiohttp.ClientSession) -> None:
    await _wait_for_frame(client)
    async with client.get("/api/v1/cameras") as resp:
        cameras = (await resp.json())["cameras"]
    assert cameras[0]["id"] == "cam1"
    assert cameras[0]["online"] is True
    async with client.get("/api/v1/cameras/cam1/snapshot.jpg") as resp:
        assert resp.content_type == "image/jpeg"
        image = Image.open(io.BytesIO(await resp.read()))
    assert image.size == (WIDTH, HEIGHT)
    async with client.get("/api/v1/cameras/nope") as resp:
        await _error(resp, 404)
    async with client.get("/api/v1/cameras/nope/snapshot.jpg") as resp:
        await _error(resp, 404)


def _persisted(data_dir: Path) -> bool | None:
    """cam1's `detection_enabled` as the edge saved it (None before the first save)."""
    try:
        return json.loads((data_dir / "cameras.json").read_text())["cam1"]["detection_enabled"]
    except FileNotFoundError:
        return None


async def test_patch_detection_is_applied_pushed_and_persisted(
    client: aiohttp.ClientSession, edge: EdgeUnderTest
) -> None:
    try:
        async with client.ws_connect("/api/v1/ws") as ws:
            await ws.receive_json(timeout=30)
            body = {"detection_enabled": False}
            async with client.patch("/api/v1/cameras/cam1", json=body) as resp:
                assert resp.status == 200
                assert (await resp.json())["detection_enabled"] is False
            async with asyncio.timeout(30):
                while (message := await ws.receive_json())["type"] != "camera.status":
                    pass
            assert message["camera"]["detection_enabled"] is False
        async with client.get("/api/v1/cameras/cam1") as resp:
            assert (await resp.json())["detection_enabled"] is False
        # the edge saves on its store thread
        await wait_for_async(lambda: _persisted(edge.data_dir) is False, "the setting saved")
    finally:
        async with client.patch("/api/v1/cameras/cam1", json={"detection_enabled": True}) as resp:
            assert (await resp.json())["detection_enabled"] is True


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"[true]", "application/json", 400),
        (b"{}", "application/json", 400),
        (b'{"detection_enabled": "yes"}', "application/json", 400),
        (b'{"detection_enabled": 1}', "application/json", 400),
        (b'{"detection_enabled": true, "x": 1}', "application/json", 400),
        (b'{"detection_enabled": true}', "text/plain", 415),
    ],
)
async def test_patch_refuses_bad_bodies(
    client: aiohttp.ClientSession, body: bytes, content_type: str, status: int
) -> None:
    headers = {"Content-Type": content_type}
    async with client.patch("/api/v1/cameras/cam1", data=body, headers=headers) as resp:
        await _error(resp, status)
    async with client.get("/api/v1/cameras/cam1") as resp:
        assert (await resp.json())["detection_enabled"] is True


async def test_body_size_is_limited(client: aiohttp.ClientSession) -> None:
    big = {"sdp": "v=0\r\n" + "a" * 200_000, "type": "offer"}
    async with client.post("/api/v1/cameras/cam1/webrtc", json=big) as resp:
        await _error(resp, 413)


async def test_unknown_route_and_method_are_json_errors(client: aiohttp.ClientSession) -> None:
    async with client.get("/api/v1/nothing") as resp:
        await _error(resp, 404)
    async with client.put("/api/v1/cameras") as resp:
        await _error(resp, 405)


# --- events ----------------------------------------------------------------------------------


async def test_events_page_newest_first(client: aiohttp.ClientSession, edge: EdgeUnderTest) -> None:
    seen: list[dict[str, object]] = []
    params: dict[str, str] = {"label": "dog", "limit": "2"}
    pages = 0
    while True:
        async with client.get("/api/v1/events", params=params) as resp:
            page = await resp.json()
        pages += 1
        seen += page["events"]
        if page["next"] is None:
            break
        params["before"] = page["next"]
    dogs = [i for i in edge.seeded if i != "seed03"]
    assert [e["id"] for e in seen] == dogs
    assert pages == 3
    starts = [e["started_at"] for e in seen]
    assert starts == sorted(starts, reverse=True)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"camera": "old_cam"}, ["seed05", "seed03", "seed01"]),
        ({"kind": "face"}, ["seed03"]),
        ({"camera": "old_cam", "label": "dog"}, ["seed05", "seed01"]),
        ({"camera": "nobody"}, []),
    ],
)
async def test_event_filters(
    client: aiohttp.ClientSession, params: dict[str, str], expected: list[str]
) -> None:
    async with client.get("/api/v1/events", params=params) as resp:
        page = await resp.json()
    assert [e["id"] for e in page["events"]] == expected
    assert page["next"] is None


async def test_before_time_excludes_later_events(client: aiohttp.ClientSession) -> None:
    async with client.get("/api/v1/events/seed04") as resp:
        seed04 = await resp.json()
    params = {"before": seed04["started_at"], "label": "dog"}
    async with client.get("/api/v1/events", params=params) as resp:
        ids = [e["id"] for e in (await resp.json())["events"]]
    assert ids == ["seed02", "seed01", "seed00"]


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": "abc"},
        {"limit": "201"},
        {"limit": "-1"},
        {"before": "yesterday"},
        {"before": "2026-01-01T00:00:00Z,bad/id"},
        {"kind": "cat"},
        {"camera": "../etc"},
        {"label": "DROP TABLE"},
        {"colour": "red"},
    ],
)
async def test_events_refuse_bad_parameters(
    client: aiohttp.ClientSession, params: dict[str, str]
) -> None:
    async with client.get("/api/v1/events", params=params) as resp:
        body = await _error(resp, 400)
    assert body["error"] == "bad_request"


async def test_event_detail_pictures_and_delete(client: aiohttp.ClientSession) -> None:
    async with client.get("/api/v1/events/seed02") as resp:
        event = await resp.json()
    assert event["has_snapshot"] is True
    assert event["kind"] == "object"
    for name, size in (("snapshot", (320, 180)), ("thumbnail", (160, 90))):
        async with client.get(f"/api/v1/events/seed02/{name}.jpg") as resp:
            assert resp.status == 200
            assert resp.content_type == "image/jpeg"
            assert Image.open(io.BytesIO(await resp.read())).size == size
    async with client.get("/api/v1/events/seed00/snapshot.jpg") as resp:
        await _error(resp, 404)  # stored without a snapshot
    async with client.delete("/api/v1/events/seed06") as resp:
        assert resp.status == 204
    async with client.get("/api/v1/events/seed06") as resp:
        await _error(resp, 404)
    async with client.delete("/api/v1/events/seed06") as resp:
        await _error(resp, 404)
    async with client.get("/api/v1/events/seed06/thumbnail.jpg") as resp:
        await _error(resp, 404)


@pytest.mark.parametrize("path", ["/api/v1/events/bad.id", "/api/v1/events/%2e%2e"])
async def test_bad_event_ids(client: aiohttp.ClientSession, path: str) -> None:
    async with client.get(path) as resp:
        assert resp.status in (400, 404)
        await _error(resp, resp.status)


# --- devices and pairing ---------------------------------------------------------------------


async def test_devices_pairing_and_revoke(
    client: aiohttp.ClientSession, edge: EdgeUnderTest
) -> None:
    async with client.get("/api/v1/devices") as resp:
        devices = (await resp.json())["devices"]
    assert [d["id"] for d in devices] == [edge.device_id]
    assert all("key" not in d for d in devices)
    async with client.post("/api/v1/pairing") as resp:
        assert resp.status == 201
        window = await resp.json()
    assert len(window["code"]) == 6
    assert window["code"].isdigit()
    expires = datetime.fromisoformat(window["expires_at"].replace("Z", "+00:00"))
    assert timedelta(minutes=4) < expires - datetime.now(UTC) <= timedelta(minutes=5)
    async with client.post("/api/v1/pairing", json={}) as resp:
        assert resp.status == 201
        assert (await resp.json())["expires_at"] >= window["expires_at"]  # a fresh window
    async with client.post("/api/v1/pairing", json={"x": 1}) as resp:
        await _error(resp, 400)
    async with client.delete("/api/v1/devices/unknown") as resp:
        await _error(resp, 404)
    async with client.delete(f"/api/v1/devices/{edge.device_id}") as resp:
        assert resp.status == 204
    async with client.get("/api/v1/devices") as resp:
        assert (await resp.json())["devices"] == []
    assert edge.device_id not in (edge.data_dir / "devices.json").read_text()


# --- metrics ---------------------------------------------------------------------------------


async def test_metrics(client: aiohttp.ClientSession) -> None:
    await _wait_for_frame(client)
    async with client.ws_connect("/api/v1/ws") as ws:
        await ws.receive_json(timeout=30)
        async with client.get("/api/v1/metrics") as resp:
            assert resp.content_type == "text/plain"
            text = await resp.text()
    values = {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }
    assert values['peerwatch_camera_online{camera="cam1"}'] == 1
    assert values['peerwatch_camera_frames_total{camera="cam1"}'] > 0
    assert values['peerwatch_inference_ms{detector="object"}'] > 0
    assert values["peerwatch_ws_clients"] >= 1
    assert values["peerwatch_webrtc_sessions"] >= 0


# --- live: WebSocket, MJPEG, WebRTC ----------------------------------------------------------


async def _next_push(ws: aiohttp.ClientWebSocketResponse, kind: str) -> dict[str, Any]:
    """The next push of `kind` about a person on cam1 (30 s at most)."""
    async with asyncio.timeout(30):
        while True:
            message = await ws.receive_json()
            event = message.get("event", {})
            if message["type"] == kind and event["label"] == "person":
                assert event["camera"] == "cam1"
                return message


async def test_websocket_pushes_event_start_within_a_second(
    client: aiohttp.ClientSession,
) -> None:
    """Detection off ends the live event; on again, the person makes a new one. Latency is from
    the event's `started_at` (when the edge got the frame) to receipt; the median of three is
    taken so one scheduling hiccup of a shared CI machine does not decide. The start is pushed
    before its snapshot is drawn; asking for the snapshot at once waits for it."""
    latencies = []
    async with client.ws_connect("/api/v1/ws") as ws:
        hello = await ws.receive_json(timeout=30)
        assert hello["type"] == "hello"
        assert hello["cameras"][0]["id"] == "cam1"
        for _ in range(3):
            async with client.patch("/api/v1/cameras/cam1", json={"detection_enabled": False}):
                pass
            await _no_live_event(client)
            async with client.patch("/api/v1/cameras/cam1", json={"detection_enabled": True}):
                pass
            message = await _next_push(ws, "event.start")
            received = datetime.now(UTC)
            event = message["event"]
            started = datetime.fromisoformat(event["started_at"].replace("Z", "+00:00"))
            latencies.append((received - started).total_seconds())
            assert event["has_snapshot"] is False
            async with client.get(f"/api/v1/events/{event['id']}/snapshot.jpg") as resp:
                assert resp.status == 200
                assert resp.content_type == "image/jpeg"
            update = await _next_push(ws, "event.update")
            assert update["event"]["id"] == event["id"]
            assert update["event"]["has_snapshot"] is True
    assert statistics.median(latencies) < 1.0, latencies
    assert max(latencies) < 3.0, latencies


async def test_mjpeg_stream_gives_jpeg_frames(client: aiohttp.ClientSession) -> None:
    await _wait_for_frame(client)
    async with client.get("/api/v1/cameras/cam1/stream.mjpeg", params={"fps": "5"}) as resp:
        assert resp.status == 200
        kind, _, boundary = resp.headers["Content-Type"].partition("; boundary=")
        assert boundary == "peerwatchframe"
        assert kind == "multipart/x-mixed-replace"
        reader = aiohttp.MultipartReader(resp.headers, resp.content)
        sizes = []
        for _ in range(3):
            part = await asyncio.wait_for(reader.next(), 30)
            assert isinstance(part, aiohttp.BodyPartReader)
            assert part.headers["Content-Type"] == "image/jpeg"
            data = await part.read()
            assert len(data) == int(part.headers["Content-Length"])
            sizes.append(Image.open(io.BytesIO(data)).size)
    assert sizes == [(WIDTH, HEIGHT)] * 3
    async with client.get("/api/v1/health") as resp:
        assert resp.status == 200, "the edge survives a client leaving mid-stream"


@pytest.mark.parametrize("fps", ["0", "abc", "100"])
async def test_mjpeg_refuses_bad_fps(client: aiohttp.ClientSession, fps: str) -> None:
    async with client.get("/api/v1/cameras/cam1/stream.mjpeg", params={"fps": fps}) as resp:
        await _error(resp, 400)


async def test_webrtc_offer_receives_camera_frames(client: aiohttp.ClientSession) -> None:
    await _wait_for_frame(client)
    pc = RTCPeerConnection()
    try:
        pc.addTransceiver("video", direction="recvonly")
        tracks: asyncio.Queue[object] = asyncio.Queue()
        pc.on("track", tracks.put_nowait)
        await pc.setLocalDescription(await pc.createOffer())
        offer = {"sdp": pc.localDescription.sdp, "type": "offer"}
        async with client.post("/api/v1/cameras/cam1/webrtc", json=offer) as resp:
            assert resp.status == 200, await resp.text()
            answer = await resp.json()
        assert answer["type"] == "answer"
        assert "a=candidate" in answer["sdp"], "ICE gathered before answering"
        await pc.setRemoteDescription(RTCSessionDescription(**answer))
        track = await asyncio.wait_for(tracks.get(), 30)
        frame = await asyncio.wait_for(track.recv(), 30)  # type: ignore[attr-defined]
        assert (frame.width, frame.height) == (WIDTH, HEIGHT)
    finally:
        await pc.close()

    async def released() -> bool:
        async with client.get("/api/v1/metrics") as resp:
            return "peerwatch_webrtc_sessions 0" in await resp.text()

    await wait_for_async(released, "the closed WebRTC session released")


@pytest.mark.parametrize(
    "body",
    [
        {"sdp": "v=0\r\n", "type": "answer"},
        {"sdp": "hello", "type": "offer"},
        {"sdp": 5, "type": "offer"},
        {"sdp": "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n", "type": "offer"},
        {"type": "offer"},
    ],
)
async def test_webrtc_refuses_bad_offers(
    client: aiohttp.ClientSession, body: dict[str, object]
) -> None:
    async with client.post("/api/v1/cameras/cam1/webrtc", json=body) as resp:
        await _error(resp, 400)


async def test_webrtc_refuses_an_unusable_video_offer(client: aiohttp.ClientSession) -> None:
    sdp = (
        "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
        "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=recvonly\r\n"
    )
    async with client.post("/api/v1/cameras/cam1/webrtc", json={"sdp": sdp, "type": "offer"}) as r:
        await _error(r, 400)


# --- ingress ---------------------------------------------------------------------------------


@pytest.fixture
async def proxy(edge: EdgeUnderTest) -> AsyncIterator[aiohttp.ClientSession]:
    """A client connecting from the allowed proxy address (as the Supervisor's ingress would)."""
    connector = aiohttp.TCPConnector(local_addr=(INGRESS_PROXY, 0))
    async with aiohttp.ClientSession(edge.ingress_url, connector=connector) as session:
        yield session


async def test_ingress_serves_ui_and_api_without_token(proxy: aiohttp.ClientSession) -> None:
    headers = {"X-Ingress-Path": "/api/hassio_ingress/abc123"}
    async with proxy.get("/", headers=headers) as resp:
        assert resp.status == 200
        html = await resp.text()
    assert '<head><base href="/api/hassio_ingress/abc123/"><meta name="peerwatch-served-by"' in html
    async with proxy.get("/", headers={"X-Ingress-Path": '/x"><script>'}) as resp:
        assert '<head><base href="/">' in await resp.text(), "a bad ingress path is ignored"
    async with proxy.get("/app.js") as resp:
        assert "peerwatch" in await resp.text()
    async with proxy.get("/api/v1/info") as resp:
        assert resp.status == 200
        assert (await resp.json())["cameras"][0]["id"] == "cam1"
    async with proxy.ws_connect("/api/v1/ws") as ws:
        assert (await ws.receive_json(timeout=30))["type"] == "hello"
    async with proxy.get("/missing.js") as resp:
        await _error(resp, 404)
    async with proxy.get("/%2e%2e/%2e%2e/etc/passwd") as resp:
        assert resp.status == 404


async def test_ingress_refuses_other_peers(edge: EdgeUnderTest) -> None:
    async with aiohttp.ClientSession(edge.ingress_url) as stranger:  # from 127.0.0.1
        for path in ("/", "/api/v1/info", "/api/v1/events"):
            async with stranger.get(path) as resp:
                await _error(resp, 403)
