"""Switch: detection on a camera on or off (privacy mode when off)."""

from __future__ import annotations

from collections.abc import Iterable

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import PeerwatchConfigEntry, PeerwatchCoordinator
from .entity import PeerwatchEntity, async_add_camera_entities, edge_action

PARALLEL_UPDATES = 1

DETECTION = SwitchEntityDescription(
    key="detection", translation_key="detection", entity_category=EntityCategory.CONFIG
)


class PeerwatchDetectionSwitch(PeerwatchEntity, SwitchEntity):
    """Detection on a camera; off means nothing is analysed or recorded."""

    @property
    def is_on(self) -> bool | None:
        """Return whether the edge analyses this camera."""
        return self.camera.detection_enabled if self.camera else None

    @edge_action
    async def async_turn_on(self, /, **kwargs: object) -> None:
        """Turn detection on."""
        await self._set(True)

    @edge_action
    async def async_turn_off(self, /, **kwargs: object) -> None:
        """Turn detection off."""
        await self._set(False)

    async def _set(self, enabled: bool) -> None:
        camera = await self.coordinator.client.set_detection(str(self.camera_id), enabled)
        self.coordinator.camera_changed(camera)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PeerwatchConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a detection switch per camera."""

    def build(coordinator: PeerwatchCoordinator, cam: str) -> Iterable[PeerwatchDetectionSwitch]:
        yield PeerwatchDetectionSwitch(coordinator, DETECTION, cam)

    async_add_camera_entities(entry, async_add_entities, build)
