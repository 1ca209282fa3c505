"""Image entity per camera: the snapshot of the latest detection."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from homeassistant.components.image import ImageEntity, ImageEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import Event, PeerwatchError
from .coordinator import PeerwatchConfigEntry, PeerwatchCoordinator
from .entity import PeerwatchEntity, async_add_camera_entities

PARALLEL_UPDATES = 0

LAST_DETECTION = ImageEntityDescription(key="last_detection", translation_key="last_detection")


class PeerwatchLastDetectionImage(PeerwatchEntity, ImageEntity):
    """The best snapshot of the camera's latest detection."""

    def __init__(self, coordinator: PeerwatchCoordinator, camera: str) -> None:
        """Initialise both the coordinator entity and the image."""
        super().__init__(coordinator, LAST_DETECTION, camera)
        ImageEntity.__init__(self, coordinator.hass)

    @property
    def _event(self) -> Event | None:
        return self.coordinator.data.last_snapshot.get(str(self.camera_id))

    @property
    def image_last_updated(self) -> datetime | None:
        """When the latest detection's snapshot last changed (this is the state)."""
        event = self._event
        return event.updated_at if event else None

    @property
    def extra_state_attributes(self) -> dict[str, object] | None:
        """Say which event the picture shows."""
        event = self._event
        if event is None:
            return None
        return {"event_id": event.id, "label": event.label, "kind": event.kind}

    async def async_image(self) -> bytes | None:
        """Return the snapshot's JPEG from the edge."""
        if (event := self._event) is None:
            return None
        try:
            return await self.coordinator.client.event_image(event.id)
        except PeerwatchError as err:
            raise self.edge_error(err) from err


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PeerwatchConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a last-detection image per camera."""

    def build(coordinator: PeerwatchCoordinator, cam: str) -> Iterable[PeerwatchLastDetectionImage]:
        yield PeerwatchLastDetectionImage(coordinator, cam)

    async_add_camera_entities(entry, async_add_entities, build)
