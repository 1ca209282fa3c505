"""WebSocket commands for the dashboard card: recent events of a camera, and their updates.

The card names a camera entity; images come as paths signed for the asking user, served by
HA's own view, so the browser never talks to the edge.
"""

from __future__ import annotations

from typing import Any

import voluptuous as vol
from homeassistant.components.http.auth import async_sign_path
from homeassistant.components.websocket_api import async_register_command
from homeassistant.components.websocket_api.connection import ActiveConnection
from homeassistant.components.websocket_api.const import ERR_HOME_ASSISTANT_ERROR, ERR_NOT_FOUND
from homeassistant.components.websocket_api.decorators import async_response, websocket_command
from homeassistant.components.websocket_api.messages import event_message
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.dispatcher import async_dispatcher_connect

from .api import Event, EventImage, PeerwatchError
from .const import DOMAIN, SNAPSHOT_URL_LIFETIME
from .coordinator import PeerwatchConfigEntry, camera_identifier, snapshot_path

EVENTS_LIMIT = 50


def async_setup_websocket(hass: HomeAssistant) -> None:
    """Register the card's commands (once, from async_setup)."""
    async_register_command(hass, ws_events)
    async_register_command(hass, ws_subscribe_events)


def _camera(hass: HomeAssistant, entity_id: str) -> tuple[PeerwatchConfigEntry, str]:
    """Find the loaded entry and the edge's camera id behind a Peerwatch camera entity."""
    entity = er.async_get(hass).async_get(entity_id)
    if (
        entity is None
        or entity.platform != DOMAIN
        or entity.domain != "camera"
        or entity.config_entry_id is None
    ):
        raise vol.Invalid(f"{entity_id} is not a Peerwatch camera")
    entry: PeerwatchConfigEntry | None = hass.config_entries.async_get_entry(entity.config_entry_id)
    device = dr.async_get(hass).async_get(entity.device_id) if entity.device_id else None
    if entry is None or entry.state is not ConfigEntryState.LOADED or device is None:
        raise vol.Invalid(f"{entity_id} is not loaded")
    edge_id = entry.runtime_data.edge_id
    for camera in entry.runtime_data.data.info.cameras:
        if (DOMAIN, camera_identifier(edge_id, camera)) in device.identifiers:
            return entry, camera
    raise vol.Invalid(f"{entity_id} is not a Peerwatch camera")


def _event_json(
    hass: HomeAssistant, entry_id: str, event: Event, refresh_token_id: str | None
) -> dict[str, Any]:
    """An event as the card shows it, with its pictures as signed paths."""

    def sign(image: EventImage) -> str:
        return async_sign_path(
            hass,
            snapshot_path(entry_id, event.id, image),
            SNAPSHOT_URL_LIFETIME,
            refresh_token_id=refresh_token_id,
        )

    face = event.face
    return {
        "id": event.id,
        "camera": event.camera,
        "kind": event.kind,
        "label": event.label,
        "score": event.score,
        "started_at": event.started_at.isoformat(),
        "ended_at": event.ended_at.isoformat() if event.ended_at else None,
        "zones": event.zones,
        "face": {"score": face.score, "has_image": face.has_image} if face else None,
        "thumbnail": sign("thumbnail.jpg") if event.has_snapshot else None,
        "snapshot": sign("snapshot.jpg") if event.has_snapshot else None,
        "face_image": sign("face.jpg") if face and face.has_image else None,
    }


@websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/events",
        vol.Required("entity_id"): str,
        vol.Optional("limit", default=20): vol.All(int, vol.Range(min=1, max=EVENTS_LIMIT)),
    }
)
@async_response
async def ws_events(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Return a camera's recent events, newest first."""
    try:
        entry, camera = _camera(hass, msg["entity_id"])
    except vol.Invalid as err:
        connection.send_error(msg["id"], ERR_NOT_FOUND, str(err))
        return
    try:
        page = await entry.runtime_data.client.events(camera=camera, limit=msg["limit"])
    except PeerwatchError as err:
        connection.send_error(msg["id"], ERR_HOME_ASSISTANT_ERROR, str(err))
        return
    token = connection.refresh_token_id
    connection.send_result(
        msg["id"],
        {"events": [_event_json(hass, entry.entry_id, e, token) for e in page.events]},
    )


@websocket_command(
    {vol.Required("type"): f"{DOMAIN}/subscribe_events", vol.Required("entity_id"): str}
)
@callback
def ws_subscribe_events(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """Send each start, update and end of the camera's events as the edge pushes it."""
    try:
        entry, camera = _camera(hass, msg["entity_id"])
    except vol.Invalid as err:
        connection.send_error(msg["id"], ERR_NOT_FOUND, str(err))
        return

    @callback
    def forward(event: Event) -> None:
        if event.camera == camera:
            data = _event_json(hass, entry.entry_id, event, connection.refresh_token_id)
            connection.send_message(event_message(msg["id"], data))

    connection.subscriptions[msg["id"]] = async_dispatcher_connect(
        hass, entry.runtime_data.signal_event, forward
    )
    connection.send_result(msg["id"])
