"""An authenticated view that serves event snapshots from the edge through Home Assistant.

Requests need a logged-in user or a signed path (`async_sign_path`), so notifications and the
media browser get pictures without the edge (or its token) being exposed.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import cast, get_args

from aiohttp import web
from homeassistant.config_entries import ConfigEntryState
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView

from .api import EventImage, PeerwatchError, PeerwatchNotFoundError
from .const import DOMAIN

IMAGES: frozenset[str] = frozenset(get_args(EventImage.__value__))


class EventImageView(HomeAssistantView):
    """GET /api/peerwatch/{entry_id}/events/{event_id}/{snapshot.jpg|thumbnail.jpg|face.jpg}."""

    url = f"/api/{DOMAIN}/{{entry_id}}/events/{{event_id}}/{{image}}"
    name = f"api:{DOMAIN}:event_image"
    requires_auth = True

    async def get(
        self, request: web.Request, entry_id: str, event_id: str, image: str
    ) -> web.Response:
        """Fetch the picture from the edge and pass it on."""
        hass = request.app[KEY_HASS]
        entry = hass.config_entries.async_get_entry(entry_id)
        if (
            image not in IMAGES
            or entry is None
            or entry.domain != DOMAIN
            or entry.state is not ConfigEntryState.LOADED
        ):
            return web.Response(status=HTTPStatus.NOT_FOUND)
        try:
            body = await entry.runtime_data.client.event_image(event_id, cast("EventImage", image))
        except PeerwatchNotFoundError:
            return web.Response(status=HTTPStatus.NOT_FOUND)
        except PeerwatchError:
            return web.Response(status=HTTPStatus.BAD_GATEWAY)
        return web.Response(
            body=body, content_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"}
        )
