"""The coordinator: WebSocket push from the edge, with polling as the fallback and re-sync."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, TypedDict

from homeassistant.components.http.auth import async_sign_path
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .api import (
    Camera,
    EdgeInfo,
    EdgeMetrics,
    Event,
    EventImage,
    PairedDevice,
    PeerwatchAuthError,
    PeerwatchClient,
    PeerwatchError,
    PushMessage,
)
from .const import (
    CATCH_UP_PAGES,
    CONF_CATCH_UP,
    DEFAULT_CATCH_UP,
    DOMAIN,
    EVENT_DETECTION,
    EVENTS_PAGE_SIZE,
    ISSUE_UNREACHABLE,
    KIND_FACE,
    KIND_FALL,
    LOGGER,
    POLL_INTERVAL,
    PUSH_POLL_INTERVAL,
    REPAIR_AFTER,
    SNAPSHOT_URL_LIFETIME,
    STORAGE_SAVE_DELAY,
    STORAGE_VERSION,
    TRIGGER_FACE,
    TRIGGER_FALL,
)

type PeerwatchConfigEntry = ConfigEntry[PeerwatchCoordinator]

SEEN_EVENTS_KEPT = 1000
LABEL_ENTITIES = ("occupancy", "count")
"""The keys (after the label) of the entities made per camera and label."""


class StoredState(TypedDict):
    """What the coordinator keeps in HA storage: the detection keys already fired."""

    seen: list[str]


@dataclass(kw_only=True)
class PeerwatchData:
    """What the entities read: the edge, its cameras, open events and latest snapshots."""

    info: EdgeInfo
    devices: list[PairedDevice]
    metrics: EdgeMetrics
    open_events: dict[str, Event] = field(default_factory=dict)
    last_snapshot: dict[str, Event] = field(default_factory=dict)

    def open_for(self, camera: str) -> list[Event]:
        """Return the events still open on a camera."""
        return [e for e in self.open_events.values() if e.camera == camera]


def fired_store(hass: HomeAssistant, entry_id: str) -> Store[StoredState]:
    """Return the storage of the detections an entry has fired."""
    return Store(hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}")


def event_type(event: Event) -> str:
    """Name the event entity's event type for a detection: the kind, or the object label."""
    return event.kind if event.kind in (KIND_FACE, KIND_FALL) else event.label


def trigger_type(event: Event) -> str:
    """Name the device trigger type a detection fires (e.g. `person_detected`)."""
    if event.kind == KIND_FALL:
        return TRIGGER_FALL
    if event.kind == KIND_FACE:
        return TRIGGER_FACE
    return f"{event.label}_detected"


def detections(event: Event) -> list[tuple[str, Event, EventImage]]:
    """What an open event announces, each once, by key: the event itself, and the face seen on
    its person as a `face` detection of the same event (its picture the face's crop)."""
    found: list[tuple[str, Event, EventImage]] = [(event.id, event, "snapshot.jpg")]
    if event.face is not None:
        face = replace(event, kind=KIND_FACE, label=KIND_FACE, score=event.face.score)
        found.append(
            (f"{event.id}/face", face, "face.jpg" if event.face.has_image else "snapshot.jpg")
        )
    return found


def snapshot_path(entry_id: str, event_id: str, image: EventImage = "snapshot.jpg") -> str:
    """Return the path of HA's authenticated view that proxies an event's image."""
    return f"/api/{DOMAIN}/{entry_id}/events/{event_id}/{image}"


def clip_path(entry_id: str, event_id: str) -> str:
    """Return the path of HA's authenticated view that proxies an event's clip."""
    return f"/api/{DOMAIN}/{entry_id}/events/{event_id}/clip.mp4"


def camera_identifier(edge_id: str, camera: str) -> str:
    """Return the device registry identifier of a camera on an edge."""
    return f"{edge_id}_{camera}"


class PeerwatchCoordinator(DataUpdateCoordinator[PeerwatchData]):
    """Keeps one edge's state: polls `/info`, `/devices`, `/events`, and follows `/ws`."""

    config_entry: PeerwatchConfigEntry

    def __init__(
        self, hass: HomeAssistant, entry: PeerwatchConfigEntry, client: PeerwatchClient
    ) -> None:
        """Set up polling at the short interval until the push connects."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {client.host}",
            update_interval=POLL_INTERVAL,
        )
        self.client = client
        self.label_names: dict[str, str] = {}
        self._cameras_kept: frozenset[str] | None = None
        """The configured labels, each with its name in the user's language."""
        self.push_connected = False
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._restored = False
        self._store = fired_store(hass, entry.entry_id)
        self._away_since: datetime | None = None

    @property
    def catch_up(self) -> timedelta:
        """How far back a (re)connect still fires detections it missed."""
        return timedelta(minutes=self.config_entry.options.get(CONF_CATCH_UP, DEFAULT_CATCH_UP))

    async def _async_setup(self) -> None:
        """Load the detections already fired before HA (or the entry) last stopped."""
        if stored := await self._store.async_load():
            self._seen.update(dict.fromkeys(stored["seen"]))
            self._restored = True

    async def async_save(self) -> None:
        """Write the detections already fired to storage now (on unload)."""
        await self._store.async_save(self._stored())

    def _stored(self) -> StoredState:
        return {"seen": list(self._seen)}

    @property
    def edge_id(self) -> str:
        """The edge's stable id (the config entry's unique id)."""
        return self.data.info.id

    async def _async_update_data(self) -> PeerwatchData:
        """Fetch the whole state; map failures to translated errors, raise the repair issue."""
        try:
            info, devices, events, metrics = await asyncio.gather(
                self.client.info(),
                self.client.devices(),
                self._recent_events(),
                self.client.metrics(),
            )
        except PeerwatchAuthError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="invalid_auth"
            ) from err
        except PeerwatchError as err:
            self._note_away()
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="cannot_connect",
                translation_placeholders={"error": str(err)},
            ) from err
        self._note_back()
        data = PeerwatchData(info=info, devices=devices, metrics=metrics)
        for event in reversed(events):  # oldest first, so the newest snapshot wins
            if event.has_snapshot:
                data.last_snapshot[event.camera] = event
            if event.is_open:
                data.open_events[event.id] = event
        self._catch_up(events)
        return data

    async def _recent_events(self) -> list[Event]:
        """Read the timeline back, newest first, to the start of the catch-up window."""
        since = dt_util.utcnow() - self.catch_up
        page = await self.client.events(limit=EVENTS_PAGE_SIZE)
        events = list(page.events)
        for _ in range(CATCH_UP_PAGES - 1):
            if page.next is None or not events or events[-1].started_at < since:
                break
            page = await self.client.events(limit=EVENTS_PAGE_SIZE, before=page.next)
            events.extend(page.events)
        return events

    @callback
    def _catch_up(self, events: list[Event]) -> None:
        """Fire each detection not fired yet that started within the catch-up window, oldest
        first; the very first time (nothing stored yet), only note what is already there."""
        since = dt_util.utcnow() - self.catch_up
        for event in reversed(events):
            for key, detection, image in detections(event):
                if key in self._seen:
                    continue
                if self._restored and event.started_at >= since:
                    # fire once the refresh has stored the data and updated the entities
                    self.hass.loop.call_soon(self._detected, key, detection, image)
                else:
                    self._mark_seen(key)
        if not self._restored:  # stored even when empty: later starts are then caught up
            self._restored = True
            self._store.async_delay_save(self._stored, STORAGE_SAVE_DELAY)

    @callback
    def _note_away(self) -> None:
        """Remember since when the edge is away; raise a repair issue once it has been long."""
        now = dt_util.utcnow()
        if self._away_since is None:
            self._away_since = now
        elif now - self._away_since >= REPAIR_AFTER:
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                f"{ISSUE_UNREACHABLE}_{self.config_entry.entry_id}",
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key=ISSUE_UNREACHABLE,
                translation_placeholders={
                    "name": self.config_entry.title,
                    "host": f"{self.client.host}:{self.client.port}",
                },
            )

    @callback
    def _note_back(self) -> None:
        """The edge answers: drop the repair issue."""
        if self._away_since is not None:
            self._away_since = None
            ir.async_delete_issue(
                self.hass, DOMAIN, f"{ISSUE_UNREACHABLE}_{self.config_entry.entry_id}"
            )

    def _mark_seen(self, event_id: str) -> bool:
        """Record an event id; tell whether it is new."""
        if event_id in self._seen:
            return False
        self._seen[event_id] = None
        while len(self._seen) > SEEN_EVENTS_KEPT:
            self._seen.popitem(last=False)
        self._store.async_delay_save(self._stored, STORAGE_SAVE_DELAY)
        return True

    @callback
    def _detected(self, key: str, event: Event, image: EventImage) -> None:
        """Fire `peerwatch_detection` and the entity signal once per detection `key`."""
        if not self._mark_seen(key):
            return
        device = dr.async_get(self.hass).async_get_device(
            identifiers={(DOMAIN, camera_identifier(self.edge_id, event.camera))}
        )
        path = snapshot_path(self.config_entry.entry_id, event.id, image)
        self.hass.bus.async_fire(
            EVENT_DETECTION,
            {
                "config_entry_id": self.config_entry.entry_id,
                "device_id": device.id if device else None,
                "type": trigger_type(event),
                "camera": event.camera,
                "label": event.label,
                "kind": event.kind,
                "score": event.score,
                "zones": event.zones,
                "event_id": event.id,
                "snapshot_path": path,
                "snapshot_url": async_sign_path(
                    self.hass, path, SNAPSHOT_URL_LIFETIME, use_content_user=True
                ),
                **self.clip_links(event),
            },
        )
        async_dispatcher_send(self.hass, self.signal_event_start, event)

    @callback
    def clip_links(self, event: Event) -> dict[str, str]:
        """The event's `clip_path` and signed `clip_url` (HA's clip view) when it has a clip
        (the edge says so from its start on cameras that record): while the clip is recorded
        the URL serves the part written so far, more as it grows."""
        if not event.has_clip:
            return {}
        path = clip_path(self.config_entry.entry_id, event.id)
        url = async_sign_path(self.hass, path, SNAPSHOT_URL_LIFETIME, use_content_user=True)
        return {"clip_path": path, "clip_url": url}

    @property
    def signal_event(self) -> str:
        """The dispatcher signal of every event the edge pushes (start, update, end)."""
        return f"{DOMAIN}_{self.config_entry.entry_id}_event"

    @property
    def signal_event_start(self) -> str:
        """The dispatcher signal the event entities listen to."""
        return f"{DOMAIN}_{self.config_entry.entry_id}_event_start"

    @callback
    def _on_push(self, message: PushMessage) -> None:
        """Apply one WebSocket push to the state."""
        data = self.data
        if message.camera is not None or message.cameras:
            self._set_cameras([message.camera] if message.camera else message.cameras)
            return
        event = message.event
        if event is None:
            return
        if event.has_snapshot:
            data.last_snapshot[event.camera] = event
        if message.type == "event.end" or not event.is_open:
            data.open_events.pop(event.id, None)
        else:
            data.open_events[event.id] = event
        self.async_set_updated_data(data)
        async_dispatcher_send(self.hass, self.signal_event, event)
        if event.is_open:  # after the states, so listeners see the sensors already on
            for key, detection, image in detections(event):
                self._detected(key, detection, image)

    @callback
    def remove_stale(self) -> None:
        """Remove the devices of cameras the edge no longer has, and the entities of labels
        no longer configured (when the cameras change, and once per setup)."""
        cameras = frozenset(self.data.info.cameras)
        if cameras == self._cameras_kept:
            return
        self._cameras_kept = cameras
        edge_id = self.edge_id
        entry_id = self.config_entry.entry_id
        current = {(DOMAIN, edge_id)} | {
            (DOMAIN, camera_identifier(edge_id, cam)) for cam in self.data.info.cameras
        }
        devices = dr.async_get(self.hass)
        for device in dr.async_entries_for_config_entry(devices, entry_id):
            if not device.identifiers & current:
                devices.async_update_device(device.id, remove_config_entry_id=entry_id)
        entities = er.async_get(self.hass)
        label_keys = {f"_{label}_{kind}" for label in self.label_names for kind in LABEL_ENTITIES}
        for entity in er.async_entries_for_config_entry(entities, entry_id):
            if entity.unique_id.endswith(LABEL_ENTITIES) and not any(
                entity.unique_id.endswith(key) for key in label_keys
            ):
                entities.async_remove(entity.entity_id)

    @callback
    def _set_cameras(self, changed: list[Camera]) -> None:
        """Store cameras' new status and tell the entities."""
        cameras = self.data.info.cameras | {camera.id: camera for camera in changed}
        self.data.info = replace(self.data.info, cameras=cameras)
        self.async_set_updated_data(self.data)

    @callback
    def camera_changed(self, camera: Camera) -> None:
        """Take a camera status returned by a command (e.g. the detection switch)."""
        self._set_cameras([camera])

    async def _on_connected(self, connected: bool) -> None:
        """Switch between push and polling; re-sync at once either way."""
        if connected == self.push_connected:
            return
        self.push_connected = connected
        self.update_interval = PUSH_POLL_INTERVAL if connected else POLL_INTERVAL
        LOGGER.debug("Push from the edge %s", "connected" if connected else "lost")
        await self.async_request_refresh()

    @callback
    def start_push(self) -> None:
        """Start following the edge's WebSocket in the background."""
        self.config_entry.async_create_background_task(
            self.hass, self._listen(), f"{DOMAIN} push {self.client.host}"
        )

    async def _listen(self) -> None:
        """Run the client's listener; on a refused token, start reauth."""
        try:
            await self.client.listen(self._on_push, self._on_connected)
        except PeerwatchAuthError:
            LOGGER.warning("The edge refused the token on its WebSocket")
            self.config_entry.async_start_reauth(self.hass)

    def diagnostics(self) -> dict[str, Any]:
        """Return the runtime state for diagnostics."""
        return {
            "push_connected": self.push_connected,
            "update_interval": str(self.update_interval),
            "last_update_success": self.last_update_success,
            "away_since": self._away_since.isoformat() if self._away_since else None,
        }
