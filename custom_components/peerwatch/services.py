"""Services for what no entity can do: revoke a paired device, start pairing and get the code."""

from __future__ import annotations

import voluptuous as vol
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv

from .api import PeerwatchError
from .const import (
    ATTR_CONFIG_ENTRY_ID,
    ATTR_DEVICE_ID,
    DOMAIN,
    SERVICE_REVOKE_DEVICE,
    SERVICE_START_PAIRING,
)
from .coordinator import PeerwatchConfigEntry
from .helpers import translate_errors

ENTRY_SCHEMA = vol.Schema({vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string})
REVOKE_SCHEMA = ENTRY_SCHEMA.extend({vol.Required(ATTR_DEVICE_ID): cv.string})


def _loaded_entry(call: ServiceCall) -> PeerwatchConfigEntry:
    """Return the loaded config entry the call names, or raise a translated error."""
    entry_id = call.data[ATTR_CONFIG_ENTRY_ID]
    entry = call.hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_found",
            translation_placeholders={"entry_id": entry_id},
        )
    if entry.state is not ConfigEntryState.LOADED:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_loaded",
            translation_placeholders={"title": entry.title},
        )
    return entry


async def _revoke_device(call: ServiceCall) -> None:
    """Revoke a paired phone or laptop."""
    entry = _loaded_entry(call)
    coordinator = entry.runtime_data
    device_id = call.data[ATTR_DEVICE_ID]
    if device_id not in {d.id for d in coordinator.data.devices}:
        await coordinator.async_refresh()
        if device_id not in {d.id for d in coordinator.data.devices}:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="unknown_paired_device",
                translation_placeholders={"device_id": device_id},
            )
    try:
        await coordinator.client.revoke_device(device_id)
    except PeerwatchError as err:
        raise translate_errors(call.hass, entry, err) from err
    await coordinator.async_request_refresh()


async def _start_pairing(call: ServiceCall) -> ServiceResponse:
    """Start pairing and return the code to type into the app."""
    entry = _loaded_entry(call)
    try:
        pairing = await entry.runtime_data.client.start_pairing()
    except PeerwatchError as err:
        raise translate_errors(call.hass, entry, err) from err
    return {
        "code": pairing.code,
        "expires_at": pairing.expires_at.isoformat(),
    }


def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's services (once, from async_setup)."""
    hass.services.async_register(
        DOMAIN, SERVICE_REVOKE_DEVICE, _revoke_device, schema=REVOKE_SCHEMA
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_START_PAIRING,
        _start_pairing,
        schema=ENTRY_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
