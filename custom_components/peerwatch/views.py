"""Authenticated views that serve event pictures and clips from the edge through Home Assistant.

Requests need a logged-in user or a signed path (`async_sign_path`), so notifications and the
media browser get pictures and clips without the edge (or its token) being exposed.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import cast, get_args

from aiohttp import hdrs, web
from homeassistant.config_entries import ConfigEntryState
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView

from .api import CLIP_CHUNK, EventImage, PeerwatchError, PeerwatchNotFoundError
from .const import DOMAIN
from .coordinator import PeerwatchConfigEntry

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
        entry = _loaded_entry(request, entry_id)
        if image not in IMAGES or entry is None:
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


class EventClipView(HomeAssistantView):
    """GET/HEAD /api/peerwatch/{entry_id}/events/{event_id}/clip.mp4, Range passed through.

    While the clip is being recorded the edge serves the part written so far (not cached); the
    same URL serves more as the clip grows, and the whole clip once it is complete.
    """

    url = f"/api/{DOMAIN}/{{entry_id}}/events/{{event_id}}/clip.mp4"
    name = f"api:{DOMAIN}:event_clip"
    requires_auth = True

    async def get(self, request: web.Request, entry_id: str, event_id: str) -> web.StreamResponse:
        """Stream the clip (or the range asked for) from the edge."""
        return await self._proxy(request, entry_id, event_id)

    async def head(self, request: web.Request, entry_id: str, event_id: str) -> web.StreamResponse:
        """Answer the clip's headers (its length, that ranges work)."""
        return await self._proxy(request, entry_id, event_id)

    @staticmethod
    async def _proxy(request: web.Request, entry_id: str, event_id: str) -> web.StreamResponse:
        entry = _loaded_entry(request, entry_id)
        if entry is None:
            return web.Response(status=HTTPStatus.NOT_FOUND)
        client = entry.runtime_data.client
        try:
            async with client.event_clip(
                event_id,
                byte_range=request.headers.get(hdrs.RANGE),
                head=request.method == hdrs.METH_HEAD,
            ) as clip:
                cache = "no-store" if clip.recording else "private, max-age=3600"
                response = web.StreamResponse(
                    status=clip.status, headers=clip.headers | {hdrs.CACHE_CONTROL: cache}
                )
                await response.prepare(request)
                async for chunk in clip.body.iter_chunked(CLIP_CHUNK):
                    await response.write(chunk)
        except PeerwatchNotFoundError:
            return web.Response(status=HTTPStatus.NOT_FOUND)
        except PeerwatchError:
            return web.Response(status=HTTPStatus.BAD_GATEWAY)
        await response.write_eof()
        return response


def _loaded_entry(request: web.Request, entry_id: str) -> PeerwatchConfigEntry | None:
    """The loaded Peerwatch config entry `entry_id`, or None."""
    entry: PeerwatchConfigEntry | None = request.app[KEY_HASS].config_entries.async_get_entry(
        entry_id
    )
    if entry is None or entry.domain != DOMAIN or entry.state is not ConfigEntryState.LOADED:
        return None
    return entry
