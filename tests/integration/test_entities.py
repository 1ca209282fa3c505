"""Each platform's states and attributes, push updates, and entity actions."""

from __future__ import annotations

from http import HTTPStatus
from unittest.mock import AsyncMock, MagicMock

import pytest
from homeassistant.components.camera import (
    DOMAIN as CAMERA_DOMAIN,
)
from homeassistant.components.camera import (
    StreamType,
    async_get_image,
)
from homeassistant.const import (
    ATTR_DEVICE_CLASS,
    ATTR_ENTITY_ID,
    ATTR_FRIENDLY_NAME,
    ATTR_UNIT_OF_MEASUREMENT,
    STATE_OFF,
    STATE_ON,
    STATE_UNKNOWN,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)

from custom_components.peerwatch.api import (
    Camera,
    EdgeMetrics,
    Event,
    EventPage,
    PeerwatchConnectionError,
    PushMessage,
)
from custom_components.peerwatch.const import DOMAIN

from .conftest import EDGE_ID, ENTRY_ID, Push, payload

pytestmark = pytest.mark.usefixtures("entity_registry_enabled_by_default", "init_integration")


LATER = "2026-11-25T06:20:00Z"


def _event(event_id: str, **changes: object) -> dict[str, object]:
    """An event payload like the edge sends, based on the recorded one."""
    base = payload("events.json")["events"][0]
    return {**base, "id": event_id, **changes}


async def test_binary_sensors(hass: HomeAssistant, entity_registry: er.EntityRegistry) -> None:
    person = hass.states.get("binary_sensor.front_door_person_occupancy")
    assert person.state == STATE_ON
    assert person.attributes[ATTR_DEVICE_CLASS] == "occupancy"
    assert person.attributes[ATTR_FRIENDLY_NAME] == "Front door Person occupancy"
    assert hass.states.get("binary_sensor.garden_dog_occupancy").state == STATE_OFF
    fall = hass.states.get("binary_sensor.front_door_fall")
    assert (fall.state, fall.attributes[ATTR_DEVICE_CLASS]) == (STATE_OFF, "safety")
    registrar = hass.states.get("binary_sensor.home_edge_registrar")
    assert (registrar.state, registrar.attributes[ATTR_DEVICE_CLASS]) == (STATE_ON, "connectivity")
    entry = entity_registry.async_get("binary_sensor.home_edge_registrar")
    assert entry.entity_category == "diagnostic"
    assert entry.unique_id == f"{EDGE_ID}_registrar"
    assert (
        entity_registry.async_get("binary_sensor.front_door_fall").unique_id
        == f"{EDGE_ID}_front_door_fall"
    )


async def test_sensors(hass: HomeAssistant) -> None:
    count = hass.states.get("sensor.front_door_person_count")
    assert count.state == "1"
    assert count.attributes[ATTR_FRIENDLY_NAME] == "Front door Person count"
    assert hass.states.get("sensor.garden_dog_count").state == "0"
    fps = hass.states.get("sensor.front_door_frame_rate")
    assert (fps.state, fps.attributes[ATTR_UNIT_OF_MEASUREMENT]) == ("4.9", "fps")
    analysis = hass.states.get("sensor.front_door_analysis_time")
    assert (analysis.state, analysis.attributes[ATTR_UNIT_OF_MEASUREMENT]) == ("31.25", "ms")
    inference = hass.states.get("sensor.home_edge_inference_time")
    assert (inference.state, inference.attributes[ATTR_UNIT_OF_MEASUREMENT]) == ("20.0", "ms")
    assert hass.states.get("sensor.home_edge_paired_devices").state == "1"


async def test_fps_falls_back_to_camera_status(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, push: Push
) -> None:
    """Without metrics, a camera's status gives its fps; inference time is unknown."""
    coordinator = mock_config_entry.runtime_data
    coordinator.data.metrics = EdgeMetrics.from_text("")
    push.send({"type": "camera.status", "camera": payload("info.json")["cameras"][1]})
    await hass.async_block_till_done()
    assert hass.states.get("sensor.garden_frame_rate").state == "5.0"
    assert hass.states.get("sensor.home_edge_inference_time").state == STATE_UNKNOWN


async def test_push_event_lifecycle(hass: HomeAssistant, push: Push) -> None:
    """A person appears on the garden camera, then leaves; a fall starts and ends."""
    events = []
    hass.bus.async_listen("peerwatch_detection", events.append)
    start = _event("ev9", camera="garden", zones=["lawn"], score=0.88)
    push.send({"type": "event.start", "event": start})
    await hass.async_block_till_done()
    assert hass.states.get("binary_sensor.garden_person_occupancy").state == STATE_ON
    assert hass.states.get("sensor.garden_person_count").state == "1"
    detection = hass.states.get("event.garden_detection")
    assert detection.attributes["event_type"] == "person"
    assert detection.attributes["event_id"] == "ev9"
    assert detection.attributes["score"] == 0.88
    assert detection.attributes["zones"] == ["lawn"]
    assert detection.attributes["kind"] == "object"
    assert detection.attributes["event_types"] == ["person", "face", "fall", "dog"]
    assert len(events) == 1
    data = events[0].data
    assert data["camera"] == "garden"
    assert data["type"] == "person_detected"
    assert data["snapshot_path"] == f"/api/{DOMAIN}/{ENTRY_ID}/events/ev9/snapshot.jpg"
    assert data["snapshot_url"].startswith(data["snapshot_path"] + "?authSig=")
    assert data["device_id"] is not None

    # A repeated start (e.g. after a reconnect) fires nothing new.
    push.send({"type": "event.start", "event": start})
    push.send({"type": "event.update", "event": {**start, "score": 0.93}})
    await hass.async_block_till_done()
    assert len(events) == 1
    push.send({"type": "event.end", "event": {**start, "ended_at": "2026-11-25T06:10:00Z"}})
    await hass.async_block_till_done()
    assert hass.states.get("binary_sensor.garden_person_occupancy").state == STATE_OFF
    assert hass.states.get("sensor.garden_person_count").state == "0"

    fall = _event("ev10", camera="garden", kind="fall", label="person")
    push.send({"type": "event.start", "event": fall})
    await hass.async_block_till_done()
    assert hass.states.get("binary_sensor.garden_fall").state == STATE_ON
    assert hass.states.get("binary_sensor.garden_person_occupancy").state == STATE_OFF
    assert hass.states.get("event.garden_detection").attributes["event_type"] == "fall"
    assert events[-1].data["type"] == "fall_detected"

    # A label without an event type (car is not configured) still fires the bus event.
    push.send({"type": "event.start", "event": _event("ev11", camera="garden", label="car")})
    await hass.async_block_till_done()
    assert events[-1].data["type"] == "car_detected"
    assert hass.states.get("event.garden_detection").attributes["event_id"] == "ev10"


async def test_unknown_pushes_are_ignored(hass: HomeAssistant, push: Push) -> None:
    """A type this integration does not know (a newer edge's) changes nothing; malformed
    messages never get here (the client drops them: test_api.test_listen_pushes_and_reconnects)."""
    assert push.on_message is not None
    push.on_message(PushMessage.from_dict({"type": "edge.restarting"}))
    await hass.async_block_till_done()
    assert hass.states.get("binary_sensor.front_door_person_occupancy").state == STATE_ON


async def test_camera_status_push(hass: HomeAssistant, push: Push) -> None:
    camera = payload("info.json")["cameras"][0]
    push.send({"type": "camera.status", "camera": {**camera, "online": False}})
    await hass.async_block_till_done()
    assert hass.states.get("camera.front_door").state == "unavailable"
    push.send({"type": "camera.status", "camera": camera})
    await hass.async_block_till_done()
    assert hass.states.get("camera.front_door").state == "idle"


async def test_switch(hass: HomeAssistant, mock_client: MagicMock) -> None:
    assert hass.states.get("switch.front_door_detection").state == STATE_ON
    assert hass.states.get("switch.garden_detection").state == STATE_OFF
    garden = payload("info.json")["cameras"][1]
    mock_client.set_detection.return_value = Camera.from_dict({**garden, "detection_enabled": True})
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: "switch.garden_detection"}, blocking=True
    )
    mock_client.set_detection.assert_awaited_with("garden", True)
    assert hass.states.get("switch.garden_detection").state == STATE_ON

    mock_client.set_detection.return_value = Camera.from_dict(garden)
    await hass.services.async_call(
        "switch", "turn_off", {ATTR_ENTITY_ID: "switch.garden_detection"}, blocking=True
    )
    mock_client.set_detection.assert_awaited_with("garden", False)
    assert hass.states.get("switch.garden_detection").state == STATE_OFF

    mock_client.set_detection.side_effect = PeerwatchConnectionError("refused")
    with pytest.raises(HomeAssistantError, match="Cannot reach the Peerwatch edge: refused"):
        await hass.services.async_call(
            "switch", "turn_on", {ATTR_ENTITY_ID: "switch.garden_detection"}, blocking=True
        )


async def test_pair_button(
    hass: HomeAssistant, mock_client: MagicMock, hass_ws_client: WebSocketGenerator
) -> None:
    assert await async_setup_component(hass, "persistent_notification", {})
    await hass.services.async_call(
        "button", "press", {ATTR_ENTITY_ID: "button.home_edge_pair_a_phone"}, blocking=True
    )
    mock_client.start_pairing.assert_awaited_once()
    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": "persistent_notification/get"})
    notes = (await client.receive_json())["result"]
    assert len(notes) == 1
    assert notes[0]["notification_id"] == f"{DOMAIN}_pairing_{ENTRY_ID}"
    assert "**482913**" in notes[0]["message"]
    assert notes[0]["title"] == "Pair a phone with Home edge"


async def test_camera_image_and_capabilities(hass: HomeAssistant, mock_client: MagicMock) -> None:
    image = await async_get_image(hass, "camera.front_door")
    assert image.content == b"\xff\xd8camera\xff\xd9"
    mock_client.camera_snapshot.assert_awaited_with("front_door")
    state = hass.states.get("camera.front_door")
    assert state.attributes["brand"] == "Peerwatch"
    assert state.attributes["motion_detection"] is True
    camera = hass.data[CAMERA_DOMAIN].get_entity("camera.front_door")
    assert camera.camera_capabilities.frontend_stream_types == {StreamType.WEB_RTC}

    mock_client.camera_snapshot.side_effect = PeerwatchConnectionError("gone")
    with pytest.raises(HomeAssistantError):
        await async_get_image(hass, "camera.front_door")


async def test_camera_webrtc(
    hass: HomeAssistant, mock_client: MagicMock, hass_ws_client: WebSocketGenerator
) -> None:
    mock_client.webrtc_offer.return_value = "v=0\r\nanswer"
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {"type": "camera/webrtc/offer", "entity_id": "camera.front_door", "offer": "v=0\r\noffer"}
    )
    response = await client.receive_json()
    assert response["success"]
    subscription = response["id"]
    session = await client.receive_json()
    assert session["event"]["type"] == "session"
    answer = await client.receive_json()
    assert answer["id"] == subscription
    assert answer["event"] == {"type": "answer", "answer": "v=0\r\nanswer"}
    mock_client.webrtc_offer.assert_awaited_with("front_door", "v=0\r\noffer")

    # Late candidates are accepted and dropped (the edge answered with all of its own).
    await client.send_json_auto_id(
        {
            "type": "camera/webrtc/candidate",
            "entity_id": "camera.front_door",
            "session_id": session["event"]["session_id"],
            "candidate": {"candidate": "candidate:1 1 udp 1 192.0.2.9 5000 typ host"},
        }
    )
    assert (await client.receive_json())["success"]

    mock_client.webrtc_offer.side_effect = PeerwatchConnectionError("refused")
    await client.send_json_auto_id(
        {"type": "camera/webrtc/offer", "entity_id": "camera.front_door", "offer": "v=0"}
    )
    assert (await client.receive_json())["success"]
    await client.receive_json()  # session
    error = await client.receive_json()
    assert error["event"]["type"] == "error"
    assert error["event"]["code"] == "webrtc_offer_failed"


async def test_camera_mjpeg_stream(
    hass: HomeAssistant, mock_client: MagicMock, hass_client: ClientSessionGenerator
) -> None:
    """The MJPEG fallback proxies the edge's multipart stream."""
    body = b"--frame\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8x\xff\xd9\r\n"
    upstream = MagicMock()
    upstream.headers = {"Content-Type": "multipart/x-mixed-replace; boundary=frame"}
    upstream.content.read = AsyncMock(side_effect=[body, b""])
    mock_client.mjpeg_stream.return_value = upstream
    client = await hass_client()
    resp = await client.get("/api/camera_proxy_stream/camera.front_door")
    assert resp.status == HTTPStatus.OK
    assert resp.headers["Content-Type"].startswith("multipart/x-mixed-replace")
    assert await resp.read() == body

    mock_client.mjpeg_stream.side_effect = PeerwatchConnectionError("refused")
    resp = await client.get("/api/camera_proxy_stream/camera.front_door")
    assert resp.status == HTTPStatus.INTERNAL_SERVER_ERROR


async def test_image_entity(
    hass: HomeAssistant,
    mock_client: MagicMock,
    hass_client: ClientSessionGenerator,
    push: Push,
) -> None:
    state = hass.states.get("image.front_door_last_detection")
    assert state.state == "2026-11-25T06:01:05+00:00"
    assert state.attributes["event_id"] == "ev3"
    client = await hass_client()
    resp = await client.get("/api/image_proxy/image.front_door_last_detection")
    assert resp.status == HTTPStatus.OK
    assert await resp.read() == b"\xff\xd8event\xff\xd9"
    mock_client.event_image.assert_awaited_with("ev3")

    push.send(
        {
            "type": "event.end",
            "event": _event(
                "ev12", updated_at="2026-11-25T06:20:00Z", ended_at="2026-11-25T06:20:00Z"
            ),
        }
    )
    await hass.async_block_till_done()
    state = hass.states.get("image.front_door_last_detection")
    assert (state.state, state.attributes["event_id"]) == ("2026-11-25T06:20:00+00:00", "ev12")

    mock_client.event_image.side_effect = PeerwatchConnectionError("gone")
    resp = await client.get("/api/image_proxy/image.front_door_last_detection")
    assert resp.status == HTTPStatus.INTERNAL_SERVER_ERROR


async def test_image_without_detection(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, hass_client: ClientSessionGenerator
) -> None:
    mock_config_entry.runtime_data.data.last_snapshot.clear()
    mock_config_entry.runtime_data.async_update_listeners()
    await hass.async_block_till_done()
    state = hass.states.get("image.garden_last_detection")
    assert state.state == STATE_UNKNOWN
    assert "event_id" not in state.attributes
    client = await hass_client()
    resp = await client.get("/api/image_proxy/image.garden_last_detection")
    assert resp.status == HTTPStatus.INTERNAL_SERVER_ERROR


async def test_new_camera_gets_entities(
    hass: HomeAssistant, push: Push, mock_client: MagicMock
) -> None:
    push.send(
        {
            "type": "camera.status",
            "camera": {
                "id": "garage",
                "name": "Garage",
                "online": True,
                "detection_enabled": True,
                "last_frame_at": "2026-11-25T06:00:00Z",
                "fps": 2.0,
                "error": None,
            },
        }
    )
    await hass.async_block_till_done()
    assert hass.states.get("binary_sensor.garage_person_occupancy").state == STATE_OFF
    assert hass.states.get("camera.garage") is not None
    assert hass.states.get("switch.garage_detection").state == STATE_ON


async def test_polling_finds_a_new_detection(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, mock_client: MagicMock
) -> None:
    """Without push, a poll that finds a new open event fires it once, after the states (it
    started just now: within the catch-up window)."""
    seen_state: list[str] = []
    hass.bus.async_listen(
        "peerwatch_detection",
        lambda event: seen_state.append(
            hass.states.get("binary_sensor.garden_person_occupancy").state
        ),
    )
    page = mock_client.events.return_value
    now = dt_util.utcnow().isoformat().replace("+00:00", "Z")
    new = Event.from_dict(_event("ev20", camera="garden", started_at=now))
    mock_client.events.return_value = EventPage(events=[new, *page.events], next=None)
    for _ in range(2):
        await mock_config_entry.runtime_data.async_refresh()
        await hass.async_block_till_done()
    assert seen_state == [STATE_ON]
