"""Map edge errors on user actions to translated Home Assistant errors."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.translation import async_get_translations

from .api import (
    PeerwatchAuthError,
    PeerwatchConnectionError,
    PeerwatchError,
    PeerwatchNotFoundError,
)
from .const import CONF_ADDON, CONF_APP_URL, DOMAIN


async def async_label_names(hass: HomeAssistant, labels: list[str]) -> dict[str, str]:
    """Name each label in the user's language (a custom label as typed), for placeholders."""
    names = await async_get_translations(hass, hass.config.language, "selector", {DOMAIN})
    return {
        label: names.get(f"component.{DOMAIN}.selector.labels.options.{label}", label)
        for label in labels
    }


def ingress_url(entry: ConfigEntry) -> str | None:
    """The add-on's ingress panel (the app, signed in by HA) when the add-on runs the edge."""
    if slug := entry.data.get(CONF_ADDON):
        return f"homeassistant://hassio/ingress/{slug}"
    return None


def app_url(entry: ConfigEntry) -> str | None:
    """Where a user opens the app: the ingress panel, else the configured app address."""
    if slug := entry.data.get(CONF_ADDON):
        return f"/hassio/ingress/{slug}"
    url: str | None = entry.options.get(CONF_APP_URL)
    return url


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
