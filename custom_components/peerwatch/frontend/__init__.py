"""The `custom:peerwatch-card` dashboard card, served and loaded by the integration itself."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Final

from homeassistant.components.frontend import add_extra_js_url
from homeassistant.components.http import StaticPathConfig
from homeassistant.core import HomeAssistant

from ..const import DOMAIN

CARD_FILE: Final = Path(__file__).parent / "peerwatch-card.js"
CARD_URL: Final = f"/{DOMAIN}_frontend/peerwatch-card.js"


def _version(path: Path) -> str:
    """A short hash of the card, so browsers fetch it anew after an update."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


async def async_register_card(hass: HomeAssistant) -> None:
    """Serve the card and have every dashboard load it: no manual resource step."""
    version = await hass.async_add_executor_job(_version, CARD_FILE)
    await hass.http.async_register_static_paths(
        [StaticPathConfig(CARD_URL, str(CARD_FILE), cache_headers=True)]
    )
    if "frontend" in hass.config.components:
        add_extra_js_url(hass, f"{CARD_URL}?v={version}")
