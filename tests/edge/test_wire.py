"""The edge's wire format against docs/schemas, from a real edge on loopback.

One edge process runs for the module: a file camera looping the fixture video through the real
models, a store seeded with past events, remote access through a real registrar, and a TURN
server in `ice_servers`. Every JSON route, the WebSocket and the DataChannel are exercised and
each body, message and frame is validated against its schema (tests/schemas.py).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiortc import RTCPeerConnection

from peerwatch_edge.model import Event, Kind
from peerwatch_edge.store import EventStore
from tests import schemas
from tests.edge.remote_client import EdgeLink, RegistrarClient
from tests.edge.remote_stack import our_registrar, wait_registrar_status
from tests.schemas import SchemaError, validate
from tests.support import EdgeProcess, camera_config, edge_config, free_port, start_edge

pytestmark = pytest.mark.slow

# A TURN server on a closed TCP port: both aiortc and Chromium give up on it at once.
TURN_PORT = free_port()
ICE_SERVERS = [
    {
        "urls": [f"turn:127.0.0.1:{TURN_PORT}?transport=tcp"],
        "username": "peerwatch",
        "credential": "turn-secret",
    }
]


@dataclass
class WireEdge:
    """The edge under test, the registrar it registered with, and its peer id."""

    process: EdgeProcess
    registrar_url: str
    peer_id: str

    @property
    def url(self) -> str:
        return self.process.url

    @property
    def auth(self) -> dict[str, str]:
        return self.process.auth


async def _seed(data_dir: Path) -> None:
    """Past events with what the live ones may lack: a face, zones, no box, no snapshot."""
    store = EventStore(data_dir)
    await store.open()
    start = datetime.now(UTC) - timedelta(days=1)
    for n, (kind, label) in enumerate([(Kind.OBJECT, "dog"), (Kind.FACE, "face")] * 2):
        when = start + timedelta(minutes=n, microseconds=n * 1000)
        event = Event(
            id=f"wire{n}",
            camera="cam1",
            kind=kind,
            label=label,
            score=0.75,
            started_at=when,
            updated_at=when,
            ended_at=when + timedelta(seconds=5),
            box=None if n == 1 else (0.1, 0.2, 0.5, 1.0),
            zones=["porch"] if n == 2 else [],
        )
        assert await store.save(event, None)
    await store.close()


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WireEdge]:
    tmp = tmp_path_factory.mktemp("wire")
    data_dir = tmp / "data"
    asyncio.run(_seed(data_dir))
    registrar = our_registrar(tmp, free_port())
    registrar_url = f"http://127.0.0.1:{registrar.port}"
    camera = camera_config(end_after=1, motion={"interval": 0.5})
    config = edge_config(
        data_dir, camera, registrar={"url": registrar_url}, ice_servers=ICE_SERVERS
    )
    try:
        process = start_edge(config, tmp)
        try:
            yield WireEdge(process, registrar_url, wait_registrar_status(process, connected=True))
        finally:
            process.stop()
    finally:
        registrar.stop()


@pytest.fixture
async def client(edge: WireEdge) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(edge.url, headers=edge.auth) as session:
        yield session


async def _json(
    client: aiohttp.ClientSession, method: str, path: str, schema: str, status: int = 200, **kw: Any
) -> Any:
    """Call the API; check the status and validate the JSON body against `schema`."""
    async with client.request(method, path, **kw) as resp:
        assert resp.status == status, await resp.text()
        assert resp.content_type == "application/json"
        return validate(schema, await resp.json())


# --- the schemas and the validator -----------------------------------------------------------


@pytest.mark.parametrize("name", schemas.names())
def test_schemas_are_valid_with_every_ref_resolved(name: str) -> None:
    schemas.check_schema(name)


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        (
            "health",
            {"status": "ok", "extra": 1},
            "$: Additional properties are not allowed ('extra'",
        ),
        ("health", {}, "$: 'status' is a required property"),
        ("camera", {"id": "Cam"}, "$.id: 'Cam' does not match"),
        ("pairing", {"code": 123456, "expires_at": "x"}, "$.code: 123456 is not of type 'string'"),
        ("event", {"score": True}, "$.score: True is not of type 'number'"),
        ("events", {"events": [{}], "next": None}, "$.events[0]: 'id' is a required property"),
        (
            "event",
            {"box": [0, 0, 1]},
            "$.box: [0, 0, 1] is not valid under any",
        ),
        (
            "event",
            {"box": [0, 0, 1, 1.5]},
            "$.box: [0, 0, 1, 1.5] is not valid",
        ),
        (
            "push",
            {"type": "event.begin", "event": {}},
            "is not valid under any of the given",
        ),
        (
            "info",
            {"ice_servers": [{"url": "stun:x"}]},
            "$.ice_servers[0]: 'urls' is a required",
        ),
        ("common", None, None),
    ],
)
def test_validator_names_what_is_wrong(name: str, value: object, problem: str | None) -> None:
    if problem is None:
        validate(name, value)
        return
    with pytest.raises(SchemaError) as err:
        validate(name, value)
    assert problem in str(err.value)


# --- REST ------------------------------------------------------------------------------------


async def test_info_carries_the_configured_ice_servers(
    client: aiohttp.ClientSession, edge: WireEdge
) -> None:
    info = await _json(client, "GET", "/api/v1/info", "info")
    assert info["ice_servers"] == ICE_SERVERS
    assert info["peer_id"] == edge.peer_id
    assert info["registrar"] == "connected"
    assert [c["id"] for c in info["cameras"]] == ["cam1"]


async def test_rest_routes_answer_their_schemas(
    client: aiohttp.ClientSession, edge: WireEdge
) -> None:
    async with aiohttp.ClientSession(edge.url) as anonymous:
        await _json(anonymous, "GET", "/api/v1/health", "health")
        await _json(anonymous, "GET", "/api/v1/info", "error", 401)
    await _json(client, "GET", "/api/v1/cameras", "cameras")
    await _json(client, "GET", "/api/v1/cameras/cam1", "camera")
    await _json(client, "GET", "/api/v1/cameras/nope", "error", 404)
    for enabled in (False, True):
        body = {"detection_enabled": enabled}
        status = await _json(client, "PATCH", "/api/v1/cameras/cam1", "camera", json=body)
        assert status["detection_enabled"] is enabled
    await _json(client, "PATCH", "/api/v1/cameras/cam1", "error", 400, json={"x": 1})
    await _json(client, "PUT", "/api/v1/cameras/cam1", "error", 405)

    seen, cursor = [], None
    while True:
        params = {"limit": "3"} | ({"before": cursor} if cursor else {})
        page = await _json(client, "GET", "/api/v1/events", "events", params=params)
        seen += [event["id"] for event in page["events"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert {"wire0", "wire1", "wire2", "wire3"} <= set(seen)
    event = await _json(client, "GET", "/api/v1/events/wire1", "event")
    assert (event["box"], event["has_snapshot"]) == (None, False)
    await _json(client, "GET", "/api/v1/events/wire1/snapshot.jpg", "error", 404)
    await _json(client, "GET", "/api/v1/events?limit=0", "error", 400)
    async with client.delete("/api/v1/events/wire0") as resp:
        assert resp.status == 204
    await _json(client, "GET", "/api/v1/events/wire0", "error", 404)

    await _json(client, "GET", "/api/v1/devices", "devices")
    await _json(client, "POST", "/api/v1/pairing", "pairing", 201)
    await _json(client, "DELETE", "/api/v1/devices/unknown", "error", 404)


async def test_webrtc_answer(client: aiohttp.ClientSession) -> None:
    pc = RTCPeerConnection()
    try:
        pc.addTransceiver("video", direction="recvonly")
        await pc.setLocalDescription(await pc.createOffer())
        offer = {"sdp": pc.localDescription.sdp, "type": "offer"}
        await _json(client, "POST", "/api/v1/cameras/cam1/webrtc", "webrtc-answer", json=offer)
    finally:
        await pc.close()


# --- pushes ----------------------------------------------------------------------------------


async def _set_detection(client: aiohttp.ClientSession, enabled: bool) -> None:
    body = {"detection_enabled": enabled}
    await _json(client, "PATCH", "/api/v1/cameras/cam1", "camera", json=body)


async def test_websocket_messages(client: aiohttp.ClientSession) -> None:
    """`hello`, then every push type: the person in the clip starts an event, its snapshot
    updates it, switching detection off ends it (and pushes the camera's status)."""
    seen: dict[str, dict[str, Any]] = {}
    async with client.ws_connect("/api/v1/ws") as ws, asyncio.timeout(120):
        hello = validate("ws", await ws.receive_json())
        assert hello["type"] == "hello"
        while len(seen) < 4:
            message = validate("ws", await ws.receive_json())
            seen.setdefault(message["type"], message)
            if message["type"] == "event.update" and "event.end" not in seen:
                await _set_detection(client, False)
            elif message["type"] == "event.end":
                await _set_detection(client, True)
    assert set(seen) == {"event.start", "event.update", "event.end", "camera.status"}


async def test_datachannel_frames(client: aiohttp.ClientSession, edge: WireEdge) -> None:
    """Over the remote channel: hello, paired, responses (with the ICE servers in /info), a
    push and an error frame; then the device list shows the phone, which is revoked."""
    code = (await _json(client, "POST", "/api/v1/pairing", "pairing", 201))["code"]
    async with RegistrarClient(edge.registrar_url) as registrar:
        link = await EdgeLink.open(registrar, edge.peer_id)
        try:
            assert (await link.pair(code))["type"] == "paired"
            response = await link.request("GET", "/api/v1/info")
            assert response.status == 200
            assert validate("info", json.loads(response.body))["ice_servers"] == ICE_SERVERS
            response = await link.request("GET", "/api/v1/ws")
            validate("error", json.loads(response.body))
            await _set_detection(client, False)
            await _set_detection(client, True)
            async with asyncio.timeout(30):
                while (await link.pushes.get())["type"] != "camera.status":
                    pass
            link.send({"type": "unknown"})
            assert (await link.next())["code"] == "bad_request"
            await link.wait_closed()
        finally:
            await link.close()
    for frame in link.frames:
        validate("channel", frame)
    assert {f["type"] for f in link.frames} == {"hello", "paired", "response", "push", "error"}
    devices = (await _json(client, "GET", "/api/v1/devices", "devices"))["devices"]
    assert link.device is not None
    assert link.device[0] in [d["id"] for d in devices]
    async with client.delete(f"/api/v1/devices/{link.device[0]}") as resp:
        assert resp.status == 204
