"""Binary sensors: occupancy per label and fall per camera; registrar connectivity."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import KIND_FALL, KIND_OBJECT
from .coordinator import PeerwatchConfigEntry, PeerwatchCoordinator, PeerwatchData
from .entity import PeerwatchEntity, async_add_camera_entities

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class PeerwatchBinarySensorDescription(BinarySensorEntityDescription):
    """A binary sensor whose state is a function of the data (and the camera)."""

    is_on_fn: Callable[[PeerwatchData, str | None], bool]


def occupancy(label: str, name: str) -> PeerwatchBinarySensorDescription:
    """On while an object of `label` is in view of the camera."""
    return PeerwatchBinarySensorDescription(
        key=f"{label}_occupancy",
        translation_key="occupancy",
        translation_placeholders={"label": name},
        device_class=BinarySensorDeviceClass.OCCUPANCY,
        is_on_fn=lambda data, cam: any(
            e.kind == KIND_OBJECT and e.label == label for e in data.open_for(str(cam))
        ),
    )


FALL = PeerwatchBinarySensorDescription(
    key="fall",
    translation_key="fall",
    device_class=BinarySensorDeviceClass.SAFETY,
    is_on_fn=lambda data, cam: any(e.kind == KIND_FALL for e in data.open_for(str(cam))),
)

REGISTRAR = PeerwatchBinarySensorDescription(
    key="registrar",
    translation_key="registrar",
    device_class=BinarySensorDeviceClass.CONNECTIVITY,
    entity_category=EntityCategory.DIAGNOSTIC,
    is_on_fn=lambda data, _: data.info.registrar_connected,
)


class PeerwatchBinarySensor(PeerwatchEntity, BinarySensorEntity):
    """A Peerwatch binary sensor."""

    entity_description: PeerwatchBinarySensorDescription

    @property
    def is_on(self) -> bool:
        """Return the state from the coordinator's data."""
        return self.entity_description.is_on_fn(self.coordinator.data, self.camera_id)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PeerwatchConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the edge's and each camera's binary sensors."""
    labels = entry.runtime_data.label_names
    async_add_entities([PeerwatchBinarySensor(entry.runtime_data, REGISTRAR)])

    def build(coordinator: PeerwatchCoordinator, cam: str) -> Iterable[PeerwatchBinarySensor]:
        for description in (*(occupancy(*label) for label in labels.items()), FALL):
            yield PeerwatchBinarySensor(coordinator, description, cam)

    async_add_camera_entities(entry, async_add_entities, build)
