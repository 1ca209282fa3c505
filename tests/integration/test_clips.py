"""Event clips in Home Assistant: the clip view's Range passthrough, the media browser playing
clips, and the signed `clip_url` of detections, with the real client against a fake edge that
serves a real fragmented MP4 (remuxed from the fixture video) with aiohttp's Range handling."""

from __future__ import annotations

from collections.abc import AsyncIterator
from http import HTTPStatus
from pathlib import Path
from typing import Any

import av
import pytest
from homeassistant.components import media_source
from homeassistant.components.media_player.const import MediaClass
from homeassistant.components.media_source import Unresolvable
from homeassistant.core import Event, HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.peerwatch.const import DOMAIN, EVENT_DETECTION
from tests.support import VIDEO_PATH, wait_for_async

from .conftest import payload
from .test_api import FakeEdge, fake_edge_entry

pytestmark = pytest.mark.usefixtures("socket_enabled")
CLIP_SECONDS = 3
ANONYMOUS = {"Authorization": ""}  # overrides the test client's login


@pytest.fixture(scope="module")
def clip_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The fixture video's first seconds remuxed (no re-encoding) into fragmented MP4, as the
    edge records clips."""
    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    with (
        av.open(str(VIDEO_PATH)) as source,
        av.open(
            str(path),
            "w",
            format="mp4",
            options={"movflags": "frag_keyframe+empty_moov+default_base_moof"},
        ) as out,
    ):
        stream = source.streams.video[0]
        copy = out.add_stream_from_template(stream)
        start = None
        for packet in source.demux(stream):
            if packet.dts is None or packet.pts is None:
                continue
            start = packet.pts if start is None else start
            if (packet.pts - start) * packet.time_base > CLIP_SECONDS:
                break
            packet.stream = copy
            out.mux(packet)
    return path.read_bytes()


@pytest.fixture
async def edge(tmp_path: Path, clip_bytes: bytes) -> AsyncIterator[FakeEdge]:
    """The fake edge with the complete clip of `ev1` (the fixture's front door event)."""
    (tmp_path / "ev1.mp4").write_bytes(clip_bytes)
    fake = await FakeEdge(clips={"ev1": tmp_path / "ev1.mp4"}).start()
    yield fake
    await fake.stop()


@pytest.fixture
async def entry(hass: HomeAssistant, edge: FakeEdge) -> AsyncIterator[MockConfigEntry]:
    """The integration with its real client, following the fake edge's push."""
    config = fake_edge_entry(edge)
    config.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config.entry_id)
    await hass.async_block_till_done()
    await wait_for_async(lambda: edge.sockets, "the integration's WebSocket")
    yield config
    assert await hass.config_entries.async_unload(config.entry_id)
    await hass.async_block_till_done()


def _clip(entry: MockConfigEntry, event_id: str) -> str:
    return f"/api/{DOMAIN}/{entry.entry_id}/events/{event_id}/clip.mp4"


async def test_clip_view_passes_ranges_through(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    edge: FakeEdge,
    clip_bytes: bytes,
    hass_client: ClientSessionGenerator,
) -> None:
    client = await hass_client()
    size = len(clip_bytes)
    url = _clip(entry, "ev1")
    assert (await client.get(url, headers=ANONYMOUS)).status == HTTPStatus.UNAUTHORIZED

    whole = await client.get(url)
    assert whole.status == HTTPStatus.OK
    assert whole.content_type == "video/mp4"
    assert whole.headers["Accept-Ranges"] == "bytes"
    assert whole.headers["Content-Length"] == str(size)
    assert whole.headers["Cache-Control"] == "private, max-age=3600"
    assert await whole.read() == clip_bytes
    assert clip_bytes[4:8] == b"ftyp"

    part = await client.get(url, headers={"Range": "bytes=1000-1999"})
    assert part.status == HTTPStatus.PARTIAL_CONTENT
    assert part.headers["Content-Range"] == f"bytes 1000-1999/{size}"
    assert await part.read() == clip_bytes[1000:2000]
    tail = await client.get(url, headers={"Range": "bytes=-500"})
    assert tail.status == HTTPStatus.PARTIAL_CONTENT
    assert await tail.read() == clip_bytes[-500:]
    past = await client.get(url, headers={"Range": f"bytes={size}-"})
    assert past.status == HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE
    assert past.headers["Content-Range"] == f"bytes */{size}"

    head = await client.head(url)
    assert head.status == HTTPStatus.OK
    assert head.headers["Content-Length"] == str(size)
    assert head.content_type == "video/mp4"
    assert await head.read() == b""
    assert "HEAD /api/v1/events/ev1/clip.mp4" in edge.requests

    assert (await client.get(_clip(entry, "ev2"))).status == HTTPStatus.NOT_FOUND
    assert (await client.head(_clip(entry, "ev2"))).status == HTTPStatus.NOT_FOUND
    assert (await client.get(url.replace(entry.entry_id, "nope"))).status == HTTPStatus.NOT_FOUND
    edge.broken = "500"
    assert (await client.get(url)).status == HTTPStatus.BAD_GATEWAY


async def test_media_browser_plays_clips(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    clip_bytes: bytes,
    hass_client: ClientSessionGenerator,
) -> None:
    base = f"media-source://{DOMAIN}/{entry.entry_id}"
    page = await media_source.async_browse_media(hass, f"{base}/c/front_door")
    by_event = {c.identifier.split("/")[2]: c for c in page.children if c.can_play}
    snapshot, clip = by_event["ev3"], by_event["ev1"]
    assert (snapshot.media_class, snapshot.media_content_type) == (MediaClass.IMAGE, "image/jpeg")
    assert (clip.media_class, clip.media_content_type) == (MediaClass.VIDEO, "video/mp4")

    resolved = await media_source.async_resolve_media(hass, clip.media_content_id, None)
    assert resolved.mime_type == "video/mp4"
    assert resolved.url.startswith(_clip(entry, "ev1") + "?authSig=")
    client = await hass_client()
    resp = await client.get(resolved.url)
    assert resp.status == HTTPStatus.OK
    assert resp.content_type == "video/mp4"
    assert await resp.read() == clip_bytes
    still = await media_source.async_resolve_media(hass, snapshot.media_content_id, None)
    assert still.mime_type == "image/jpeg"

    with pytest.raises(Unresolvable):
        await media_source.async_resolve_media(hass, f"{base}/v/ev1/clip.mp4", None)


def _start(event_id: str, camera: str, **changes: Any) -> dict[str, Any]:
    event = payload("events.json")["events"][0]  # an open person event
    return {"type": "event.start", "event": {**event, "id": event_id, "camera": camera, **changes}}


async def _until_count(hass: HomeAssistant, detections: list[Event], count: int) -> None:
    """Wait until `count` detections have fired."""

    async def fired() -> bool:
        await hass.async_block_till_done()
        return len(detections) >= count

    await wait_for_async(fired, f"{count} detections")


async def test_detection_clip_url_serves_the_growing_clip(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    edge: FakeEdge,
    clip_bytes: bytes,
    hass_client: ClientSessionGenerator,
) -> None:
    """An event that starts with has_clip (its camera records) fires with a signed clip URL
    that works before the clip is complete; one without (the garden's) fires without."""
    detections: list[Event] = []
    hass.bus.async_listen(EVENT_DETECTION, detections.append)
    growing = edge.clips["ev1"].with_name("rec1.mp4")
    half = len(clip_bytes) // 2
    growing.write_bytes(clip_bytes[:half])
    edge.clips["rec1"], edge.recording = growing, {"rec1"}

    edge.pushes.put_nowait(_start("rec1", "front_door", has_clip=True))
    edge.pushes.put_nowait(_start("still1", "garden"))
    await _until_count(hass, detections, 2)
    front, garden = (
        next(d.data for d in detections if d.data["camera"] == c) for c in ("front_door", "garden")
    )
    assert front["clip_path"] == _clip(entry, "rec1")
    assert front["clip_url"].startswith(front["clip_path"] + "?authSig=")
    assert "clip_url" not in garden
    assert "clip_path" not in garden
    attributes = hass.states.get("event.front_door_detection").attributes
    assert attributes["clip_path"] == front["clip_path"]
    assert attributes["clip_url"].startswith(front["clip_path"] + "?authSig=")
    assert "clip_url" not in hass.states.get("event.garden_detection").attributes

    client = await hass_client()
    assert (await client.get(front["clip_path"], headers=ANONYMOUS)).status == 401
    tampered = front["clip_url"].replace("/rec1/", "/ev1/")
    assert (await client.get(tampered, headers=ANONYMOUS)).status == 401
    so_far = await client.get(front["clip_url"], headers=ANONYMOUS)
    assert so_far.status == HTTPStatus.OK
    assert so_far.headers["Cache-Control"] == "no-store"
    assert await so_far.read() == clip_bytes[:half]

    growing.write_bytes(clip_bytes)
    edge.recording.clear()
    done = await client.get(front["clip_url"], headers=ANONYMOUS)
    assert await done.read() == clip_bytes
