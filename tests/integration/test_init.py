"""Setup, unload, reload, availability, reauth and the repair issue."""

from __future__ import annotations

from unittest.mock import MagicMock

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.peerwatch.api import PeerwatchAuthError, PeerwatchConnectionError
from custom_components.peerwatch.const import DOMAIN, ISSUE_UNREACHABLE

from .conftest import EDGE_ID, ENTRY_ID, Push

OCCUPANCY = "binary_sensor.front_door_person_occupancy"


@pytest.mark.usefixtures("mock_client")
async def test_load_unload(hass: HomeAssistant, mock_config_entry: MockConfigEntry) -> None:
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.LOADED
    assert hass.states.get(OCCUPANCY).state == STATE_ON

    assert await hass.config_entries.async_unload(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.NOT_LOADED


async def test_devices(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    registry = dr.async_get(hass)
    edge = registry.async_get_device(identifiers={(DOMAIN, EDGE_ID)})
    assert edge is not None
    assert (edge.name, edge.sw_version, edge.manufacturer) == ("Home edge", "0.1.0", "Peerwatch")
    front = registry.async_get_device(identifiers={(DOMAIN, f"{EDGE_ID}_front_door")})
    assert front is not None
    assert front.name == "Front door"
    assert front.via_device_id == edge.id


@pytest.mark.parametrize(
    ("error", "state"),
    [
        (PeerwatchConnectionError("down"), ConfigEntryState.SETUP_RETRY),
        (PeerwatchAuthError("401"), ConfigEntryState.SETUP_ERROR),
    ],
)
async def test_setup_failures(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_client: MagicMock,
    error: Exception,
    state: ConfigEntryState,
) -> None:
    mock_client.info.side_effect = error
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is state
    flows = hass.config_entries.flow.async_progress()
    assert [f["context"]["source"] for f in flows] == (
        [SOURCE_REAUTH] if isinstance(error, PeerwatchAuthError) else []
    )


async def test_other_edge_at_the_address(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, mock_client: MagicMock
) -> None:
    info = mock_client.info.return_value
    mock_client.info.return_value = type(info)(**{**info.__dict__, "id": "another-edge"})
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    assert mock_config_entry.state is ConfigEntryState.SETUP_ERROR
    assert mock_config_entry.reason is not None
    assert "now answers as another edge (another-edge)" in mock_config_entry.reason


async def test_options_change_reloads(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    assert hass.states.get("binary_sensor.front_door_dog_occupancy") is not None
    hass.config_entries.async_update_entry(init_integration, options={"labels": ["car"]})
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.LOADED
    assert hass.states.get("binary_sensor.front_door_car_occupancy").state == STATE_OFF


@pytest.mark.usefixtures("init_integration")
async def test_unavailable_while_away_then_back(
    hass: HomeAssistant,
    mock_client: MagicMock,
    push: Push,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The push drops, polls fail: entities go unavailable, a repair issue appears after a
    while; the edge comes back: entities return without a reload and the issue is deleted."""
    issues = ir.async_get(hass)
    issue_id = f"{ISSUE_UNREACHABLE}_{ENTRY_ID}"
    mock_client.info.side_effect = PeerwatchConnectionError("connection refused")
    await push.connected(False)
    await hass.async_block_till_done()
    assert hass.states.get(OCCUPANCY).state == STATE_UNAVAILABLE
    assert hass.states.get("camera.front_door").state == STATE_UNAVAILABLE
    assert issues.async_get_issue(DOMAIN, issue_id) is None

    for _ in range(31):  # 10 s polls for a bit over 5 minutes
        freezer.tick(10)
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
    issue = issues.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders == {"name": "Home edge", "host": "192.0.2.5:8778"}
    assert caplog.text.count("Error fetching peerwatch") == 1, "logs unavailability once"

    mock_client.info.side_effect = None
    await push.connected(True)
    await hass.async_block_till_done()
    assert hass.states.get(OCCUPANCY).state == STATE_ON
    assert hass.config_entries.async_get_entry(ENTRY_ID).state is ConfigEntryState.LOADED
    assert issues.async_get_issue(DOMAIN, issue_id) is None


async def test_token_refused_later_starts_reauth(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_client: MagicMock,
) -> None:
    mock_client.info.side_effect = PeerwatchAuthError("401")
    await init_integration.runtime_data.async_refresh()
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress()
    assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]
    assert flows[0]["context"]["entry_id"] == ENTRY_ID


async def test_websocket_refusing_token_starts_reauth(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, mock_client: MagicMock
) -> None:
    mock_client.listen.side_effect = PeerwatchAuthError("401")
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress()
    assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]


async def test_remove_stale_camera_device(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    hass_ws_client: object,
) -> None:
    from homeassistant.setup import async_setup_component

    assert await async_setup_component(hass, "config", {})
    registry = dr.async_get(hass)
    stale = registry.async_get_or_create(
        config_entry_id=ENTRY_ID, identifiers={(DOMAIN, f"{EDGE_ID}_old_camera")}
    )
    live = registry.async_get_device(identifiers={(DOMAIN, f"{EDGE_ID}_front_door")})
    client = await hass_ws_client(hass)  # type: ignore[operator]
    for device, allowed in ((live, False), (stale, True)):
        await client.send_json_auto_id(
            {
                "type": "config/device_registry/remove_config_entry",
                "config_entry_id": ENTRY_ID,
                "device_id": device.id,
            }
        )
        response = await client.receive_json()
        assert response["success"] is allowed
