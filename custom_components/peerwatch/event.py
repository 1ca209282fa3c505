"""Event entity per camera: one event per detection start (person, face, fall, labels)."""

from __future__ import annotations

from collections.abc import Iterable

from homeassistant.components.event import EventDeviceClass, EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import Event
from .const import BASE_EVENT_TYPES, CONF_LABELS, DEFAULT_LABELS
from .coordinator import PeerwatchConfigEntry, PeerwatchCoordinator, event_type
from .entity import PeerwatchEntity, async_add_camera_entities

PARALLEL_UPDATES = 0


class PeerwatchDetectionEvent(PeerwatchEntity, EventEntity):
    """Fires when a detection starts on this camera."""

    async def async_added_to_hass(self) -> None:
        """Listen to the coordinator's event-start signal."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass, self.coordinator.signal_event_start, self._on_event_start
            )
        )

    @callback
    def _on_event_start(self, event: Event) -> None:
        """Record a detection of one of this entity's event types."""
        kind = event_type(event)
        if event.camera != self.camera_id or kind not in self.event_types:
            return
        self._trigger_event(
            kind,
            {
                "event_id": event.id,
                "label": event.label,
                "kind": event.kind,
                "score": event.score,
                "zones": event.zones,
                **self.coordinator.clip_links(event),
            },
        )
        self.async_write_ha_state()


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PeerwatchConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a detection event entity per camera."""
    labels = entry.options.get(CONF_LABELS, DEFAULT_LABELS)
    description = EventEntityDescription(
        key="detection",
        translation_key="detection",
        device_class=EventDeviceClass.MOTION,
        event_types=list(dict.fromkeys([*BASE_EVENT_TYPES, *labels])),
    )

    def build(coordinator: PeerwatchCoordinator, cam: str) -> Iterable[PeerwatchDetectionEvent]:
        yield PeerwatchDetectionEvent(coordinator, description, cam)

    async_add_camera_entities(entry, async_add_entities, build)
