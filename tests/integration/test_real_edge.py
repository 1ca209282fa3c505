"""The integration against a real edge process on loopback (real models, the fixture video).

The edge (`python -m peerwatch_edge --config ...`) loops the fixture clip of a person walking
into view through the real detectors; Home Assistant is set up through the config flow with the
edge's real token, and the person must reach HA as an occupancy state and a bus event.
"""

from __future__ import annotations

from http import HTTPStatus

import pytest
from homeassistant.components import media_source
from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON
from homeassistant.core import Event, HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.peerwatch.const import DOMAIN, EVENT_DETECTION
from tests.support import EdgeProcess

from .real_edge import until

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("socket_enabled")]
OCCUPANCY = "binary_sensor.hall_person_occupancy"


async def test_person_in_the_video_reaches_home_assistant(
    hass: HomeAssistant, real_edge: EdgeProcess, hass_client: ClientSessionGenerator
) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": "127.0.0.1", "port": real_edge.port, "token": "wrong"}
    )
    assert result["errors"] == {"token": "invalid_auth"}, "the real edge refuses a bad token"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": "127.0.0.1", "port": real_edge.port, "token": real_edge.token}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Test edge"
    entry = result["result"]
    await hass.async_block_till_done()
    assert hass.states.get(OCCUPANCY) is not None

    detections: list[Event] = []
    hass.bus.async_listen(EVENT_DETECTION, detections.append)
    await until(hass, lambda: hass.states.get(OCCUPANCY).state == STATE_ON)
    await until(hass, lambda: any(e.data["label"] == "person" for e in detections))
    person = next(e for e in detections if e.data["label"] == "person")
    assert person.data["camera"] == "hall"
    assert person.data["type"] == "person_detected"
    assert person.data["score"] >= 0.5
    assert entry.runtime_data.push_connected, "the state came over the WebSocket push"

    # The camera's frame and the event's snapshot come from the edge through HA.
    client = await hass_client()
    resp = await client.get("/api/camera_proxy/camera.hall")
    assert resp.status == HTTPStatus.OK
    assert (await resp.read())[:2] == b"\xff\xd8"
    await until(hass, lambda: hass.states.get("image.hall_last_detection").state != "unknown")
    event_id = hass.states.get("image.hall_last_detection").attributes["event_id"]
    resp = await client.get(f"/api/{DOMAIN}/{entry.entry_id}/events/{event_id}/snapshot.jpg")
    assert resp.status == HTTPStatus.OK
    assert (await resp.read())[:2] == b"\xff\xd8"

    page = await media_source.async_browse_media(
        hass, f"media-source://{DOMAIN}/{entry.entry_id}/c/hall"
    )
    assert event_id in [c.identifier.rsplit("/", 1)[1] for c in page.children]

    # Privacy switch: detection off on the edge, and back on.
    await hass.services.async_call(
        "switch", "turn_off", {ATTR_ENTITY_ID: "switch.hall_detection"}, blocking=True
    )
    assert hass.states.get("switch.hall_detection").state == STATE_OFF
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: "switch.hall_detection"}, blocking=True
    )
    assert hass.states.get("switch.hall_detection").state == STATE_ON
    assert float(hass.states.get("sensor.hall_frame_rate").state) >= 0

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
