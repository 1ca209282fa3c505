"""Peerwatch: private AI camera detections from the Peerwatch edge in Home Assistant."""

from __future__ import annotations

from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.device_registry import DeviceEntry
from homeassistant.helpers.typing import ConfigType

from .api import PeerwatchClient
from .const import CONF_LABELS, DEFAULT_LABELS, DOMAIN
from .coordinator import (
    PeerwatchConfigEntry,
    PeerwatchCoordinator,
    camera_identifier,
    fired_store,
)
from .frontend import async_register_card
from .helpers import async_label_names
from .services import async_setup_services
from .views import EventClipView, EventImageView
from .websocket import async_setup_websocket

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.CAMERA,
    Platform.EVENT,
    Platform.IMAGE,
    Platform.SENSOR,
    Platform.SWITCH,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the services, the authenticated snapshot and clip views, the card's WebSocket
    commands and the card itself once."""
    async_setup_services(hass)
    hass.http.register_view(EventClipView())  # before the pictures' `{image}` route
    hass.http.register_view(EventImageView())
    async_setup_websocket(hass)
    await async_register_card(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: PeerwatchConfigEntry) -> bool:
    """Connect to the edge, load its state, follow its push and set up the platforms."""
    client = PeerwatchClient(
        async_get_clientsession(hass),
        entry.data[CONF_HOST],
        entry.data[CONF_PORT],
        entry.data[CONF_TOKEN],
    )
    coordinator = PeerwatchCoordinator(hass, entry, client)
    await coordinator.async_config_entry_first_refresh()
    if coordinator.data.info.id != entry.unique_id:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="wrong_edge",
            translation_placeholders={"found": coordinator.data.info.id},
        )
    coordinator.label_names = await async_label_names(
        hass, entry.options.get(CONF_LABELS, DEFAULT_LABELS)
    )
    entry.runtime_data = coordinator
    entry.async_on_unload(coordinator.async_save)
    coordinator.start_push()
    entry.async_on_unload(entry.add_update_listener(_async_options_updated))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    coordinator.remove_stale()
    entry.async_on_unload(coordinator.async_add_listener(coordinator.remove_stale))
    return True


async def _async_options_updated(hass: HomeAssistant, entry: PeerwatchConfigEntry) -> None:
    """Reload so the entities follow the new labels."""
    await hass.config_entries.async_reload(entry.entry_id)


async def async_unload_entry(hass: HomeAssistant, entry: PeerwatchConfigEntry) -> bool:
    """Unload the platforms; the push task ends with the entry."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: PeerwatchConfigEntry) -> None:
    """Forget the detections the entry has fired."""
    await fired_store(hass, entry.entry_id).async_remove()


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: PeerwatchConfigEntry, device: DeviceEntry
) -> bool:
    """Let the user delete a camera's device once the edge no longer has that camera."""
    coordinator = entry.runtime_data
    edge_id = coordinator.data.info.id
    current = {(DOMAIN, edge_id)} | {
        (DOMAIN, camera_identifier(edge_id, cam)) for cam in coordinator.data.info.cameras
    }
    return not device.identifiers & current
