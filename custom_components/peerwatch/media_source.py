"""Media source: each edge's cameras and their detection timeline, paged by the edge's cursor.

Identifiers: `` (edges), `<entry>` (cameras), `<entry>/c/<camera>[/<cursor>]` (one page of a
camera's events, newest first), `<entry>/e/<event>` (one snapshot), `<entry>/v/<event>` (an
event's clip, for events that have one).
"""

from __future__ import annotations

from homeassistant.components.http.auth import async_sign_path
from homeassistant.components.media_player.const import MediaClass, MediaType
from homeassistant.components.media_source import (
    BrowseMediaSource,
    MediaSource,
    MediaSourceItem,
    PlayMedia,
    Unresolvable,
)
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from .api import Event, EventImage, PeerwatchError
from .const import DOMAIN, EVENTS_PAGE_SIZE, SNAPSHOT_URL_LIFETIME
from .coordinator import PeerwatchConfigEntry, clip_path, snapshot_path

MIME = "image/jpeg"
CLIP_MIME = "video/mp4"


async def async_get_media_source(hass: HomeAssistant) -> PeerwatchMediaSource:
    """Return the Peerwatch media source."""
    return PeerwatchMediaSource(hass)


class PeerwatchMediaSource(MediaSource):
    """Browse detections per camera and open their snapshots."""

    name = "Peerwatch"

    def __init__(self, hass: HomeAssistant) -> None:
        """Keep hass for entry lookups and URL signing."""
        super().__init__(DOMAIN)
        self.hass = hass

    def _entry(self, entry_id: str) -> PeerwatchConfigEntry:
        entry = self.hass.config_entries.async_get_entry(entry_id)
        if entry is None or entry.domain != DOMAIN or entry.state is not ConfigEntryState.LOADED:
            raise Unresolvable(
                translation_domain=DOMAIN,
                translation_key="entry_not_loaded",
                translation_placeholders={"title": entry_id},
            )
        return entry

    async def async_resolve_media(self, item: MediaSourceItem) -> PlayMedia:
        """Resolve a snapshot or a clip to HA's authenticated view, signed for the player."""
        entry_id, _, rest = item.identifier.partition("/")
        kind, _, event_id = rest.partition("/")
        if kind not in ("e", "v") or not event_id or "/" in event_id:
            raise Unresolvable(
                translation_domain=DOMAIN,
                translation_key="bad_media_id",
                translation_placeholders={"identifier": item.identifier},
            )
        self._entry(entry_id)
        path, mime = (
            (clip_path(entry_id, event_id), CLIP_MIME)
            if kind == "v"
            else (snapshot_path(entry_id, event_id), MIME)
        )
        return PlayMedia(async_sign_path(self.hass, path, SNAPSHOT_URL_LIFETIME), mime)

    async def async_browse_media(self, item: MediaSourceItem) -> BrowseMediaSource:
        """Browse edges, cameras, or one page of a camera's events."""
        if not item.identifier:
            return self._root()
        entry_id, _, rest = item.identifier.partition("/c/")
        entry = self._entry(entry_id)
        if not rest:
            return self._cameras(entry)
        camera, _, cursor = rest.partition("/")
        return await self._events(entry, camera, cursor or None)

    def _root(self) -> BrowseMediaSource:
        entries = self.hass.config_entries.async_loaded_entries(DOMAIN)
        return _folder(
            "",
            "Peerwatch",
            [_folder(entry.entry_id, entry.title) for entry in entries],
        )

    def _cameras(self, entry: PeerwatchConfigEntry) -> BrowseMediaSource:
        cameras = entry.runtime_data.data.info.cameras.values()
        return _folder(
            entry.entry_id,
            entry.title,
            [_folder(f"{entry.entry_id}/c/{cam.id}", cam.name) for cam in cameras],
        )

    async def _events(
        self, entry: PeerwatchConfigEntry, camera: str, cursor: str | None
    ) -> BrowseMediaSource:
        coordinator = entry.runtime_data
        if camera not in coordinator.data.info.cameras:
            raise Unresolvable(
                translation_domain=DOMAIN,
                translation_key="bad_media_id",
                translation_placeholders={"identifier": camera},
            )
        try:
            page = await coordinator.client.events(
                camera=camera, before=cursor, limit=EVENTS_PAGE_SIZE
            )
        except PeerwatchError as err:
            raise Unresolvable(
                translation_domain=DOMAIN,
                translation_key="cannot_connect",
                translation_placeholders={"error": str(err)},
            ) from err
        children = [self._event(entry, e) for e in page.events if e.has_snapshot]
        if page.next:
            children.append(_folder(f"{entry.entry_id}/c/{camera}/{page.next}", "Older…"))
        name = coordinator.data.info.cameras[camera].name
        return _folder(f"{entry.entry_id}/c/{camera}", name, children)

    def _event(self, entry: PeerwatchConfigEntry, event: Event) -> BrowseMediaSource:
        """An event, titled "Person 81% · Front door · 08:04:14", with its own thumbnail (the
        face seen on the person when there is one: frames of one camera look alike)."""
        entry_id = entry.entry_id
        camera = entry.runtime_data.data.info.cameras.get(event.camera)
        when = dt_util.as_local(event.started_at).strftime("%H:%M:%S")
        title = " · ".join(
            (
                f"{event.label.capitalize()} {event.score:.0%}",
                camera.name if camera else event.camera,
                when,
            )
        )
        image: EventImage = (
            "face.jpg" if event.face is not None and event.face.has_image else "thumbnail.jpg"
        )
        thumb = async_sign_path(
            self.hass, snapshot_path(entry_id, event.id, image), SNAPSHOT_URL_LIFETIME
        )
        return BrowseMediaSource(
            domain=DOMAIN,
            **_playable(entry_id, event),
            title=title,
            can_play=True,
            can_expand=False,
            thumbnail=thumb,
        )


def _folder(
    identifier: str, title: str, children: list[BrowseMediaSource] | None = None
) -> BrowseMediaSource:
    """A directory node."""
    return BrowseMediaSource(
        domain=DOMAIN,
        identifier=identifier,
        media_class=MediaClass.DIRECTORY,
        media_content_type=MediaType.IMAGE,
        title=title,
        can_play=False,
        can_expand=True,
        children=children,
        children_media_class=MediaClass.IMAGE if children is not None else None,
    )


def _playable(entry_id: str, event: Event) -> dict[str, str]:
    """How an event plays: its clip as video when it has one, else its snapshot."""
    if event.has_clip:
        return {
            "identifier": f"{entry_id}/v/{event.id}",
            "media_class": MediaClass.VIDEO,
            "media_content_type": CLIP_MIME,
        }
    return {
        "identifier": f"{entry_id}/e/{event.id}",
        "media_class": MediaClass.IMAGE,
        "media_content_type": MIME,
    }
