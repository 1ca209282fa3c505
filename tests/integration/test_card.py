"""The dashboard card's server side: the card is served and loaded by the integration, and its
WebSocket commands give a camera's events with signed picture paths, and their updates."""

from __future__ import annotations

from http import HTTPStatus
from unittest.mock import MagicMock

import pytest
from homeassistant.components.frontend import DATA_EXTRA_MODULE_URL
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)

from custom_components.peerwatch.api import PeerwatchConnectionError
from custom_components.peerwatch.const import DOMAIN
from custom_components.peerwatch.frontend import CARD_FILE, CARD_URL

from .conftest import ENTRY_ID, Push, payload

FACE = {"score": 0.93, "box": [0.2, 0.25, 0.3, 0.4], "has_image": True}


async def test_card_is_served_and_loaded_by_every_dashboard(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_client: MagicMock,
    hass_client: ClientSessionGenerator,
) -> None:
    assert await async_setup_component(hass, "frontend", {})
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    (url,) = [u for u in hass.data[DATA_EXTRA_MODULE_URL].urls if u.startswith(CARD_URL)]
    assert url.startswith(f"{CARD_URL}?v=")
    client = await hass_client()
    response = await client.get(url)
    assert response.status == HTTPStatus.OK
    assert await response.text() == CARD_FILE.read_text()


@pytest.mark.usefixtures("init_integration")
async def test_events_command(
    hass: HomeAssistant, mock_client: MagicMock, hass_ws_client: WebSocketGenerator
) -> None:
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {"type": f"{DOMAIN}/events", "entity_id": "camera.front_door", "limit": 5}
    )
    response = await client.receive_json()
    assert response["success"], response
    mock_client.events.assert_awaited_with(camera="front_door", limit=5)
    first = response["result"]["events"][0]
    assert first | {"thumbnail": None, "snapshot": None} == {
        "id": "ev3",
        "camera": "front_door",
        "kind": "object",
        "label": "person",
        "score": 0.91,
        "started_at": "2026-11-25T06:01:00+00:00",
        "ended_at": None,
        "zones": ["porch"],
        "face": None,
        "thumbnail": None,
        "snapshot": None,
        "face_image": None,
    }
    base = f"/api/{DOMAIN}/{ENTRY_ID}/events/ev3"
    assert first["thumbnail"].startswith(f"{base}/thumbnail.jpg?authSig=")
    assert first["snapshot"].startswith(f"{base}/snapshot.jpg?authSig=")


@pytest.mark.usefixtures("init_integration")
@pytest.mark.parametrize(
    ("entity_id", "code"),
    [("camera.nothing", "not_found"), ("switch.front_door_detection", "not_found")],
)
async def test_events_command_needs_a_peerwatch_camera(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator, entity_id: str, code: str
) -> None:
    client = await hass_ws_client(hass)
    for command in ("events", "subscribe_events"):
        await client.send_json_auto_id({"type": f"{DOMAIN}/{command}", "entity_id": entity_id})
        response = await client.receive_json()
        assert response["error"]["code"] == code


@pytest.mark.usefixtures("init_integration")
async def test_events_command_edge_away(
    hass: HomeAssistant, mock_client: MagicMock, hass_ws_client: WebSocketGenerator
) -> None:
    mock_client.events.side_effect = PeerwatchConnectionError("refused")
    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": f"{DOMAIN}/events", "entity_id": "camera.garden"})
    response = await client.receive_json()
    assert response["error"]["code"] == "home_assistant_error"


@pytest.mark.usefixtures("init_integration")
async def test_subscribe_events(
    hass: HomeAssistant, push: Push, hass_ws_client: WebSocketGenerator
) -> None:
    """Every push of the camera's events reaches the card, with a face crop once one is seen;
    other cameras' events do not."""
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {"type": f"{DOMAIN}/subscribe_events", "entity_id": "camera.garden"}
    )
    subscription = await client.receive_json()
    assert subscription["success"]
    event = payload("events.json")["events"][0]
    push.send({"type": "event.start", "event": {**event, "id": "f1", "camera": "front_door"}})
    push.send({"type": "event.start", "event": {**event, "id": "g1", "camera": "garden"}})
    push.send(
        {"type": "event.update", "event": {**event, "id": "g1", "camera": "garden", "face": FACE}}
    )
    started = await client.receive_json()
    updated = await client.receive_json()
    assert started["id"] == updated["id"] == subscription["id"]
    assert (started["event"]["id"], started["event"]["face_image"]) == ("g1", None)
    assert updated["event"]["face"] == {"score": 0.93, "has_image": True}
    assert updated["event"]["face_image"].startswith(
        f"/api/{DOMAIN}/{ENTRY_ID}/events/g1/face.jpg?authSig="
    )
