"""Map edge errors on user actions to translated Home Assistant errors."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from .api import (
    PeerwatchAuthError,
    PeerwatchConnectionError,
    PeerwatchError,
    PeerwatchNotFoundError,
)
from .const import DOMAIN


def translate_errors(
    hass: HomeAssistant, entry: ConfigEntry, err: PeerwatchError
) -> HomeAssistantError:
    """Return the translated HA error for an edge error; a refused token starts reauth."""
    if isinstance(err, PeerwatchAuthError):
        entry.async_start_reauth(hass)
        key = "invalid_auth"
    elif isinstance(err, PeerwatchConnectionError):
        key = "cannot_connect"
    elif isinstance(err, PeerwatchNotFoundError):
        key = "not_found"
    else:
        key = "edge_error"
    return HomeAssistantError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders={"error": str(err)}
    )
