"""The one base entity: an edge's or one of its cameras' device, fed by the coordinator."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Iterable
from functools import wraps
from typing import Any, Concatenate

from homeassistant.core import callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .api import Camera, PeerwatchError
from .const import DOMAIN
from .coordinator import PeerwatchConfigEntry, PeerwatchCoordinator, camera_identifier
from .helpers import ingress_url, translate_errors


class PeerwatchEntity(CoordinatorEntity[PeerwatchCoordinator]):
    """An entity of the edge device (camera None) or of one camera's device."""

    _attr_has_entity_name = True

    def __init__(
        self,
        coordinator: PeerwatchCoordinator,
        description: EntityDescription,
        camera: str | None = None,
    ) -> None:
        """Attach to the edge device, or to the camera's device (via the edge)."""
        super().__init__(coordinator)
        self.entity_description = description
        self.camera_id = camera
        edge = coordinator.data.info
        if camera is None:
            self._attr_unique_id = f"{edge.id}_{description.key}"
            self._attr_device_info = DeviceInfo(
                identifiers={(DOMAIN, edge.id)},
                manufacturer="Peerwatch",
                model="Peerwatch edge",
                name=edge.name,
                sw_version=edge.version,
                configuration_url=ingress_url(coordinator.config_entry),
            )
        else:
            self._attr_unique_id = f"{edge.id}_{camera}_{description.key}"
            self._attr_device_info = DeviceInfo(
                identifiers={(DOMAIN, camera_identifier(edge.id, camera))},
                manufacturer="Peerwatch",
                model="Camera",
                name=edge.cameras[camera].name,
                via_device=(DOMAIN, edge.id),
            )

    @property
    def camera(self) -> Camera | None:
        """This entity's camera status (None for edge entities or a camera gone away)."""
        if self.camera_id is None:
            return None
        return self.coordinator.data.info.cameras.get(self.camera_id)

    @property
    def available(self) -> bool:
        """Available while the edge answers and, for camera entities, the camera exists."""
        return super().available and (self.camera_id is None or self.camera is not None)

    def edge_error(self, err: PeerwatchError) -> HomeAssistantError:
        """Return the translated error for a failed call to the edge (reauth on a bad token)."""
        return translate_errors(self.hass, self.coordinator.config_entry, err)


def edge_action[E: PeerwatchEntity, **P](
    func: Callable[Concatenate[E, P], Awaitable[None]],
) -> Callable[Concatenate[E, P], Coroutine[Any, Any, None]]:
    """Decorate an entity action that calls the edge: translate its errors."""

    @wraps(func)
    async def handler(self: E, /, *args: P.args, **kwargs: P.kwargs) -> None:
        try:
            await func(self, *args, **kwargs)
        except PeerwatchError as err:
            raise self.edge_error(err) from err

    return handler


def async_add_camera_entities(
    entry: PeerwatchConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    build: Callable[[PeerwatchCoordinator, str], Iterable[Entity]],
) -> None:
    """Add each camera's entities now, and those of cameras the edge gains later."""
    coordinator = entry.runtime_data
    known: set[str] = set()

    @callback
    def add_new() -> None:
        new = sorted(set(coordinator.data.info.cameras) - known)
        known.update(new)
        if new:
            async_add_entities(entity for cam in new for entity in build(coordinator, cam))

    add_new()
    entry.async_on_unload(coordinator.async_add_listener(add_new))
