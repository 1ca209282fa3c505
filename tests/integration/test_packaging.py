"""What a store-ready integration owes its users: stale devices and entities removed, names in
their language, a pairing notification that says where the app is, a device link that works."""

from __future__ import annotations

from dataclasses import replace
from unittest.mock import MagicMock

import pytest
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.peerwatch.const import CONF_ADDON, CONF_APP_URL, CONF_LABELS, DOMAIN

from .conftest import EDGE_ID, ENTRY_ID


async def test_removed_camera_leaves_no_device(
    hass: HomeAssistant, init_integration: MockConfigEntry, mock_client: MagicMock
) -> None:
    """The edge drops a camera: its device and entities go at the next sync."""
    devices = dr.async_get(hass)
    garden = (DOMAIN, f"{EDGE_ID}_garden")
    assert devices.async_get_device(identifiers={garden}) is not None
    info = mock_client.info.return_value
    mock_client.info.return_value = replace(
        info, cameras={k: v for k, v in info.cameras.items() if k != "garden"}
    )
    await init_integration.runtime_data.async_refresh()
    await hass.async_block_till_done()
    assert devices.async_get_device(identifiers={garden}) is None
    assert er.async_get(hass).async_get("binary_sensor.garden_person_occupancy") is None
    assert devices.async_get_device(identifiers={(DOMAIN, f"{EDGE_ID}_front_door")})
    assert hass.states.get("binary_sensor.front_door_person_occupancy") is not None


async def test_deselected_label_leaves_no_entities(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    entities = er.async_get(hass)
    assert entities.async_get("sensor.front_door_dog_count") is not None
    hass.config_entries.async_update_entry(
        init_integration, options={CONF_LABELS: ["giraffe", "person"]}
    )
    await hass.async_block_till_done()
    for gone in ("sensor.front_door_dog_count", "binary_sensor.garden_dog_occupancy"):
        assert entities.async_get(gone) is None
    assert entities.async_get("sensor.front_door_person_count") is not None
    # a custom label is named as typed; known ones come from the translations
    giraffe = hass.states.get("binary_sensor.front_door_giraffe_occupancy")
    assert giraffe.attributes["friendly_name"] == "Front door giraffe occupancy"
    person = hass.states.get("binary_sensor.front_door_person_occupancy")
    assert person.attributes["friendly_name"] == "Front door Person occupancy"


@pytest.mark.parametrize(
    ("data", "options", "where", "configuration_url"),
    [
        ({CONF_ADDON: "local_peerwatch"}, {}, "/hassio/ingress/local_peerwatch", True),
        ({}, {CONF_APP_URL: "https://peer.example.org/"}, "https://peer.example.org/", False),
        ({}, {}, None, False),
    ],
)
async def test_pairing_says_where_the_app_is(
    hass: HomeAssistant,
    *,
    mock_config_entry: MockConfigEntry,
    mock_client: MagicMock,
    hass_ws_client: WebSocketGenerator,
    data: dict[str, str],
    options: dict[str, str],
    where: str | None,
    configuration_url: bool,
) -> None:
    """The notification gives the ingress panel when the add-on runs the edge, else the
    configured app address; the edge device links to the panel or to nothing (the edge's own
    API root only answers 401)."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=mock_config_entry.title,
        unique_id=EDGE_ID,
        entry_id=ENTRY_ID,
        data=mock_config_entry.data | data,
        options=mock_config_entry.options | options,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    edge = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, EDGE_ID)})
    assert edge.configuration_url == (
        "homeassistant://hassio/ingress/local_peerwatch" if configuration_url else None
    )

    assert await async_setup_component(hass, "persistent_notification", {})
    await hass.services.async_call(
        "button", "press", {ATTR_ENTITY_ID: "button.home_edge_pair_a_phone"}, blocking=True
    )
    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": "persistent_notification/get"})
    (note,) = (await client.receive_json())["result"]
    assert note["title"] == "Pair a phone with Home edge"
    assert "**482913**" in note["message"]
    if where is None:
        assert "Open the app" not in note["message"]
    else:
        assert f"Open the app at [{where}]({where})" in note["message"]
