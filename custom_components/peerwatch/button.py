"""Button: start pairing a phone; the code appears in a persistent notification."""

from __future__ import annotations

from homeassistant.components import persistent_notification
from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .coordinator import PeerwatchConfigEntry
from .entity import PeerwatchEntity, edge_action
from .helpers import app_url

PARALLEL_UPDATES = 1

PAIR = ButtonEntityDescription(
    key="pair", translation_key="pair", entity_category=EntityCategory.CONFIG
)


class PeerwatchPairButton(PeerwatchEntity, ButtonEntity):
    """Ask the edge for a pairing code and show it to the owner."""

    @edge_action
    async def async_press(self) -> None:
        """Start pairing and show the code."""
        pairing = await self.coordinator.client.start_pairing()
        entry = self.coordinator.config_entry
        texts = await async_get_translations(
            self.hass, self.hass.config.language, "notification", {DOMAIN}
        )

        def text(key: str, **placeholders: str) -> str:
            return texts[f"component.{DOMAIN}.notification.pairing.{key}"].format(**placeholders)

        url = app_url(entry)
        message = text(
            "message",
            code=pairing.code,
            until=dt_util.as_local(pairing.expires_at).strftime("%H:%M"),
        )
        if url:
            message += "\n\n" + text("where", url=url)
        persistent_notification.async_create(
            self.hass,
            message,
            title=text("title", name=self.coordinator.data.info.name),
            notification_id=f"{DOMAIN}_pairing_{entry.entry_id}",
        )


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PeerwatchConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the pairing button to the edge device."""
    async_add_entities([PeerwatchPairButton(entry.runtime_data, PAIR)])
