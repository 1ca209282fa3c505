"""Sensors: object counts and frame rate per camera; inference time and paired devices."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory, UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from .const import KIND_OBJECT
from .coordinator import PeerwatchConfigEntry, PeerwatchCoordinator, PeerwatchData
from .entity import PeerwatchEntity, async_add_camera_entities

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class PeerwatchSensorDescription(SensorEntityDescription):
    """A sensor whose value is a function of the data (and the camera)."""

    value_fn: Callable[[PeerwatchData, str | None], StateType]


def count(label: str, name: str) -> PeerwatchSensorDescription:
    """How many objects of `label` the camera sees right now."""
    return PeerwatchSensorDescription(
        key=f"{label}_count",
        translation_key="count",
        translation_placeholders={"label": name},
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda data, cam: sum(
            e.kind == KIND_OBJECT and e.label == label for e in data.open_for(str(cam))
        ),
    )


def _camera_fps(data: PeerwatchData, cam: str | None) -> StateType:
    """The camera's frame rate: from `/metrics`, else from its status."""
    if (fps := data.metrics.camera_fps.get(str(cam))) is not None:
        return fps
    camera = data.info.cameras.get(str(cam))
    return camera.fps if camera else None


CAMERA_DIAGNOSTICS: tuple[PeerwatchSensorDescription, ...] = (
    PeerwatchSensorDescription(
        key="fps",
        translation_key="fps",
        native_unit_of_measurement="fps",
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        suggested_display_precision=1,
        value_fn=_camera_fps,
    ),
    PeerwatchSensorDescription(
        key="analysis_time",
        translation_key="analysis_time",
        entity_registry_enabled_default=False,
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.MILLISECONDS,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        suggested_display_precision=1,
        value_fn=lambda data, cam: data.metrics.camera_analysis_ms.get(str(cam)),
    ),
)

EDGE_SENSORS: tuple[PeerwatchSensorDescription, ...] = (
    PeerwatchSensorDescription(
        key="inference_time",
        translation_key="inference_time",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.MILLISECONDS,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        suggested_display_precision=1,
        value_fn=lambda data, _: data.metrics.mean_inference_ms,
    ),
    PeerwatchSensorDescription(
        key="paired_devices",
        translation_key="paired_devices",
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda data, _: len(data.devices),
    ),
)


class PeerwatchSensor(PeerwatchEntity, SensorEntity):
    """A Peerwatch sensor."""

    entity_description: PeerwatchSensorDescription

    @property
    def native_value(self) -> StateType:
        """Return the value from the coordinator's data."""
        return self.entity_description.value_fn(self.coordinator.data, self.camera_id)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PeerwatchConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the edge's and each camera's sensors."""
    labels = entry.runtime_data.label_names
    async_add_entities(PeerwatchSensor(entry.runtime_data, d) for d in EDGE_SENSORS)

    def build(coordinator: PeerwatchCoordinator, cam: str) -> Iterable[PeerwatchSensor]:
        for description in (*(count(*label) for label in labels.items()), *CAMERA_DIAGNOSTICS):
            yield PeerwatchSensor(coordinator, description, cam)

    async_add_camera_entities(entry, async_add_entities, build)
