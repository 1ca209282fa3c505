"""Ranged requests over the DataChannel (an event clip fetched in parts, as the PWA plays it)
and device renaming, against a real edge recording clips of the fixture clip and a real
registrar: the bytes equal the local API's, every response frame matches channel.schema.json."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.edge.remote_client import EdgeLink, RegistrarClient
from tests.edge.remote_stack import Stack, paired_link
from tests.schemas import validate
from tests.support import wait_for_async

pytestmark = pytest.mark.slow


@pytest.fixture
async def link(stack: Stack, http: aiohttp.ClientSession) -> AsyncIterator[EdgeLink]:
    async with RegistrarClient(stack.registrar_url) as registrar:
        paired = await paired_link(http, registrar, stack.peer_id)
        try:
            yield paired
        finally:
            await paired.close()


async def complete_clip(http: aiohttp.ClientSession) -> dict[str, Any]:
    """An event whose clip is complete."""

    async def done() -> dict[str, Any] | None:
        async with http.get("/api/v1/events?limit=50") as resp:
            events = (await resp.json())["events"]
        return next((e for e in events if e["clip_duration"] is not None), None)

    return await wait_for_async(done, "a complete clip", 120)


def responses(link: EdgeLink) -> list[dict[str, Any]]:
    """The `response` frames the edge sent, each checked against channel.schema.json."""
    frames = [f for f in link.frames if f.get("type") == "response"]
    for frame in frames:
        validate("channel", frame)
    return frames


async def test_a_clip_in_ranged_parts(link: EdgeLink, http: aiohttp.ClientSession) -> None:
    event = await complete_clip(http)
    path = f"/api/v1/events/{event['id']}/clip.mp4"
    async with http.get(path) as resp:
        whole = await resp.read()
    assert len(whole) > 100_000

    part = 64 * 1024
    ranges = [(start, min(start + part, len(whole)) - 1) for start in range(0, len(whole), part)]
    answers = [
        await link.request("GET", path, headers={"range": f"bytes={a}-{b}"}) for a, b in ranges
    ]
    assert {a.status for a in answers} == {206}
    assert b"".join(a.body for a in answers) == whole
    first = answers[0].headers
    assert first["content-range"] == f"bytes 0-{part - 1}/{len(whole)}"
    assert first["content-type"] == "video/mp4"
    assert first["peerwatch-clip"] == "complete"

    tail = await link.request("GET", path, headers={"range": "bytes=-1000"})
    assert (tail.status, tail.body) == (206, whole[-1000:])
    past = await link.request("GET", path, headers={"range": f"bytes={len(whole)}-"})
    assert past.status == 416
    assert past.headers["content-range"] == f"bytes */{len(whole)}"

    for headers in ({"cookie": "a=b"}, {"range": "bytes=0-1,5-9"}, {"range": 5}, ["range"]):
        refused = await link.request("GET", path, headers=headers)  # type: ignore[arg-type]
        assert refused.status == 400, headers
    responses(link)


async def test_rename_a_device_over_the_channel(link: EdgeLink) -> None:
    assert link.device is not None
    device_id = link.device[0]
    renamed = await link.request("PATCH", f"/api/v1/devices/{device_id}", {"name": " Hall tablet "})
    assert renamed.status == 200
    device = json.loads(renamed.body)
    validate("devices", {"devices": [device]})
    assert device["name"] == "Hall tablet"
    listed = await link.request("GET", "/api/v1/devices")
    assert "Hall tablet" in listed.body.decode()
    for body in ({"name": ""}, {"name": "x" * 65}, {"name": "a\nb"}, {"nom": "x"}, {}):
        bad = await link.request("PATCH", f"/api/v1/devices/{device_id}", body)
        assert bad.status == 400, body
    missing = await link.request("PATCH", "/api/v1/devices/0000000000000000", {"name": "x"})
    assert missing.status == 404
    responses(link)
