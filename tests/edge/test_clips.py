"""Event clips from a network camera: real ffmpeg streams the real clip over RTSP through the
test relay into a real edge process, which remuxes the packets into a fragmented MP4 per event."""

from __future__ import annotations

import asyncio
import json
import subprocess
import urllib.request
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import av
import pytest

from peerwatch_edge.clips import clip_duration
from tests.conftest import require_program
from tests.edge.rtsp_relay import serve_camera
from tests.support import (
    EdgeProcess,
    ServerProcess,
    camera_config,
    edge_config,
    free_port,
    start_edge,
    wait_for,
)

pytestmark = pytest.mark.slow

PRE_ROLL = 2.0
POST_ROLL = 2.0
MAX_LENGTH = 10.0


@pytest.fixture
def rtsp_camera(start_server: Callable[..., ServerProcess], video_path: Path) -> str:
    """The fixture clip looping at its real pace on rtsp://127.0.0.1:port/cam (copied, not
    re-encoded: a keyframe at the start of each 6 s loop, the person in its first 4 s)."""
    port = free_port()
    serve_camera(start_server, video_path, port)
    return f"rtsp://127.0.0.1:{port}/cam"


@pytest.fixture
def edge(rtsp_camera: str, tmp_path: Path) -> Iterator[EdgeProcess]:
    camera = camera_config(
        "door",
        source=rtsp_camera,
        detect=["object"],
        end_after=1,
        record={"pre_roll": PRE_ROLL, "post_roll": POST_ROLL},
    )
    process = start_edge(edge_config(tmp_path / "data", camera), tmp_path)
    yield process
    if process.server.running:  # not killed by the test
        process.stop()


def events(edge: EdgeProcess) -> list[dict[str, Any]]:
    return list(edge.call("GET", "/events?limit=50")["events"])


def complete_clip(edge: EdgeProcess) -> dict[str, Any] | None:
    """An event whose clip is complete and had a whole pre-roll (not the first event: at the
    camera's first frame there was nothing before it to record)."""
    done = [e for e in events(edge) if e["clip_duration"] is not None]
    return done[0] if len(done) >= 2 else None


def seconds(start: str, end: str) -> float:
    parse = datetime.fromisoformat
    return (parse(end.replace("Z", "+00:00")) - parse(start.replace("Z", "+00:00"))).total_seconds()


def packets(path: Path) -> list[tuple[bool, bytes]]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [(p.is_keyframe, bytes(p)) for p in container.demux(stream) if p.size]


def fetch(edge: EdgeProcess, path: str, method: str = "GET", **headers: str) -> Any:
    request = urllib.request.Request(  # noqa: S310
        f"{edge.url}/api/v1{path}", method=method, headers={**edge.auth, **headers}
    )
    return urllib.request.urlopen(request, timeout=10)  # noqa: S310


def test_a_person_event_gets_its_clip_with_pre_and_post_roll(
    edge: EdgeProcess, video_path: Path
) -> None:
    event = wait_for(lambda: complete_clip(edge), "a complete clip", 90)
    clip = edge.data_dir / "clips" / f"{event['id']}.mp4"
    span = seconds(event["started_at"], event["ended_at"])
    assert event["has_clip"]
    assert event["clip_duration"] >= span + PRE_ROLL + POST_ROLL - 0.5  # a frame's slack
    probe = subprocess.run(
        [require_program("ffprobe"), "-v", "error", "-show_entries", "format=duration",
         "-of", "json", str(clip)],
        capture_output=True, text=True, check=True, timeout=30,
    )  # fmt: skip
    assert float(json.loads(probe.stdout)["format"]["duration"]) >= span + PRE_ROLL
    written = packets(clip)
    assert written[0][0], "a clip starts on a keyframe"
    source = {data for _, data in packets(video_path)}
    assert all(data in source for _, data in written), "packets are copied, not re-encoded"

    size = clip.stat().st_size
    path = f"/events/{event['id']}/clip.mp4"
    with fetch(edge, path, "HEAD") as head:
        assert head.status == 200
        assert head.headers["Content-Type"] == "video/mp4"
        assert int(head.headers["Content-Length"]) == size
        assert head.headers["Peerwatch-Clip"] == "complete"
    with fetch(edge, path, Range="bytes=100-1099") as part:
        assert part.status == 206
        assert part.headers["Content-Range"] == f"bytes 100-1099/{size}"
        assert part.read() == clip.read_bytes()[100:1100]


def test_a_long_visit_keeps_its_first_max_length_seconds(rtsp_camera: str, tmp_path: Path) -> None:
    """The person comes back within `end_after` on every loop: one visit that never ends, whose
    clip is complete at `max_length` seconds instead of growing until the disk is full."""
    camera = camera_config(
        "door",
        source=rtsp_camera,
        detect=["object"],
        record={"pre_roll": PRE_ROLL, "max_length": MAX_LENGTH},
    )
    edge = start_edge(edge_config(tmp_path / "data", camera), tmp_path)
    try:
        capped = wait_for(
            lambda: next((e for e in events(edge) if e["clip_duration"] is not None), None),
            "a complete clip",
            90,
        )
        with fetch(edge, f"/events/{capped['id']}/clip.mp4", "HEAD") as head:
            assert head.headers["Peerwatch-Clip"] == "complete"
        still = edge.call("GET", f"/events/{capped['id']}")
    finally:
        edge.stop()
    assert still["ended_at"] is None  # the visit goes on
    assert still["clip_duration"] == capped["clip_duration"]
    assert MAX_LENGTH <= capped["clip_duration"] <= MAX_LENGTH + 0.5  # a frame's slack
    clip = edge.data_dir / "clips" / f"{capped['id']}.mp4"
    assert clip_duration(clip) == pytest.approx(capped["clip_duration"], abs=0.3)
    assert packets(clip)[0][0], "a clip starts on a keyframe"


def test_a_clip_cut_by_kill_9_plays_up_to_its_last_fragment(
    edge: EdgeProcess, tmp_path: Path
) -> None:
    def recording() -> dict[str, Any] | None:
        found = [e for e in events(edge) if e["has_clip"] and e["clip_duration"] is None]
        live = [e for e in found if (edge.data_dir / "clips" / f"{e['id']}.mp4").stat().st_size]
        return live[0] if live else None

    cut = wait_for(recording, "a clip being recorded", 90)
    clip = edge.data_dir / "clips" / f"{cut['id']}.mp4"
    wait_for(lambda: clip.stat().st_size > 200_000, "a fragment written", 30)
    with fetch(edge, f"/events/{cut['id']}/clip.mp4") as partial:
        assert partial.headers["Peerwatch-Clip"] == "recording"
        assert partial.headers["Cache-Control"] == "no-store"
    edge.server.kill()

    restarted = edge_config(edge.data_dir)
    restarted["cameras"] = []  # nothing new is recorded
    again = start_edge(restarted, tmp_path, name="restarted")
    try:
        event = again.call("GET", f"/events/{cut['id']}")
    finally:
        again.stop()
    assert event["has_clip"]
    assert event["clip_duration"] > 0  # read back from the cut file
    assert packets(clip)[0][0]


async def test_a_new_event_announces_its_clip_which_can_be_fetched_at_once(
    edge: EdgeProcess,
) -> None:
    """`event.start` says has_clip; asked for at once, the clip is served as it grows, never a
    404 while the file is being opened."""
    async with aiohttp.ClientSession(edge.url, headers=edge.auth) as http:
        async with http.ws_connect("/api/v1/ws") as ws:
            async with asyncio.timeout(90):
                async for message in ws:
                    data = message.json()
                    if data["type"] == "event.start":
                        break
        event = data["event"]
        assert event["has_clip"]
        assert event["clip_duration"] is None
        async with http.get(f"/api/v1/events/{event['id']}/clip.mp4") as resp:
            assert resp.status == 200
            assert resp.headers["Peerwatch-Clip"] == "recording"
            assert resp.headers["Cache-Control"] == "no-store"
