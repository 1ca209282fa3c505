"""Clips from a real edge through Home Assistant: the edge records the fixture video's person
(H.264, remuxed), the media browser offers the event as video, and the resolved URL serves a
playable MP4, with Range, to a logged-in client."""

from __future__ import annotations

from http import HTTPStatus
from pathlib import Path

import av
import pytest
from homeassistant.components import media_source
from homeassistant.components.media_player.const import MediaClass
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.peerwatch.api import Event
from custom_components.peerwatch.const import DOMAIN
from tests.support import EdgeProcess, wait_for_async

from .real_edge import CAMERA_ID, WAIT

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("socket_enabled")]


async def test_clip_plays_from_the_media_browser(
    hass: HomeAssistant,
    real_edge: EdgeProcess,
    hass_client: ClientSessionGenerator,
    tmp_path: Path,
) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": "127.0.0.1", "port": real_edge.port, "token": real_edge.token}
    )
    entry = result["result"]
    await hass.async_block_till_done()
    coordinator = entry.runtime_data

    async def complete_clip() -> Event | None:
        page = await coordinator.client.events(camera=CAMERA_ID)
        return next((e for e in page.events if e.clip_duration is not None), None)

    event = await wait_for_async(complete_clip, "an event with a complete clip", WAIT)
    assert event.has_clip
    assert event.clip_duration is not None
    assert event.clip_duration > 0

    page = await media_source.async_browse_media(
        hass, f"media-source://{DOMAIN}/{entry.entry_id}/c/{CAMERA_ID}"
    )
    item = next(c for c in page.children if c.identifier.endswith(f"/v/{event.id}"))
    assert (item.media_class, item.media_content_type) == (MediaClass.VIDEO, "video/mp4")
    resolved = await media_source.async_resolve_media(hass, item.media_content_id, None)
    assert resolved.mime_type == "video/mp4"

    client = await hass_client()
    resp = await client.get(resolved.url)
    assert resp.status == HTTPStatus.OK
    assert resp.content_type == "video/mp4"
    clip = await resp.read()
    head = await client.head(resolved.url)
    assert head.headers["Content-Length"] == str(len(clip))
    part = await client.get(resolved.url, headers={"Range": "bytes=100-1099"})
    assert part.status == HTTPStatus.PARTIAL_CONTENT
    assert part.headers["Content-Range"] == f"bytes 100-1099/{len(clip)}"
    assert await part.read() == clip[100:1100]

    path = tmp_path / "fetched.mp4"
    path.write_bytes(clip)
    with av.open(str(path)) as container:
        assert container.streams.video[0].codec_context.name == "h264"
        packets = [p for p in container.demux(video=0) if p.size]
    assert len(packets) > 5, "a playable clip of several frames"

    # The edge's events say they have a clip from their start: their detections link to it.
    links = coordinator.clip_links(event)
    assert links["clip_url"].startswith(links["clip_path"] + "?authSig=")

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
