"""The recorder on its own, fed the real clip's packets: the privacy switch, a full disk, a
source closed early and the length limit."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import av
import pytest

from peerwatch_edge.camera.recorder import Recorder
from peerwatch_edge.clips import clip_duration
from peerwatch_edge.config import RecordConfig
from tests.support import wait_for_async

type Report = tuple[str, bool, float | None]


@pytest.fixture
def source(video_path: Path) -> Iterator[tuple[av.VideoStream, list[av.Packet]]]:
    with av.open(str(video_path)) as container:
        stream = container.streams.video[0]
        yield stream, [p for p in container.demux(stream) if p.pts is not None]


@asynccontextmanager
async def recording(
    clips_dir: Path, config: RecordConfig | None = None
) -> AsyncIterator[tuple[Recorder, list[Report]]]:
    reports: list[Report] = []
    config = config or RecordConfig(pre_roll=1, post_roll=1)
    recorder = Recorder("door", config, clips_dir, lambda *r: reports.append(r))
    recorder.start()
    try:
        yield recorder, reports
    finally:
        await recorder.stop()


def play(recorder: Recorder, packets: list[av.Packet], loops: int) -> None:
    """Hand over `loops` plays of the clip, one after the other on the source's timeline."""
    first = float(packets[0].pts * packets[0].time_base)
    for loop in range(loops):
        for packet in packets:
            recorder.packet(packet, loop * 6.0 - first)


async def test_the_privacy_switch_ends_clips_at_once_and_stops_recording(
    tmp_path: Path, source: tuple[av.VideoStream, list[av.Packet]]
) -> None:
    stream, packets = source
    async with recording(tmp_path) as (recorder, reports):
        recorder.opened(stream)
        play(recorder, packets, 1)
        recorder.begin("ev1", time.monotonic())
        play(recorder, packets, 1)
        await wait_for_async(lambda: ("ev1", False, None) in reports, "the clip opened")
        recorder.switch(False)  # no end asked for: switching off ends it now
        await wait_for_async(lambda: any(r[:2] == ("ev1", True) for r in reports), "clip done")
        recorder.begin("ev2", time.monotonic())
        play(recorder, packets, 1)
    assert reports[0] == ("ev1", False, None)
    done = reports[1]
    assert done[:2] == ("ev1", True)
    assert done[2] is not None
    assert done[2] > 0
    assert clip_duration(tmp_path / "ev1.mp4") == pytest.approx(done[2], abs=0.2)
    assert reports[2:] == [("ev2", True, None)]  # switched off: told at once there is no clip
    assert not (tmp_path / "ev2.mp4").exists()


async def test_a_full_disk_ends_the_clip_cleanly(
    small_disk: tuple[Path, int], source: tuple[av.VideoStream, list[av.Packet]]
) -> None:
    clips, limit = small_disk
    if limit:
        pytest.skip("needs a small tmpfs (root may mount one)")
    stream, packets = source  # ~650 KB a play: the 256 KiB disk fills during the first
    async with recording(clips) as (recorder, reports):
        recorder.opened(stream)
        recorder.begin("ev1", 0.0)
        play(recorder, packets, 2)
        await wait_for_async(lambda: any(r[1] for r in reports), "the clip ended by the disk")
        recorder.begin("ev2", 0.0)  # the disk is still full: no clip, no crash
        play(recorder, packets, 1)
    assert recorder.dropped == 0
    done = {event_id: duration for event_id, finished, duration in reports if finished}
    assert "ev1" in done
    if done["ev1"] is None:  # nothing playable made it: no file is left behind
        assert not (clips / "ev1.mp4").exists()
    else:  # what was written plays
        assert clip_duration(clips / "ev1.mp4") is not None


async def test_a_clip_begun_after_the_source_closed_its_stream(
    tmp_path: Path, video_path: Path
) -> None:
    """The reader closes a stream's container when the stream ends (a file's end, a camera
    that drops): an event starting right then still gets its clip of what was read."""
    async with recording(tmp_path) as (recorder, reports):
        with av.open(str(video_path)) as container:
            stream = container.streams.video[0]
            recorder.opened(stream)
            packets = [p for p in container.demux(stream) if p.pts is not None]
            play(recorder, packets, 1)
        recorder.begin("ev1", time.monotonic())
        recorder.end("ev1", time.monotonic())
        await wait_for_async(lambda: any(r[:2] == ("ev1", True) for r in reports), "clip done")
    done = reports[-1][2]
    assert done is not None
    assert clip_duration(tmp_path / "ev1.mp4") == pytest.approx(done, abs=0.2)


async def test_a_clip_ends_at_its_length_limit_while_the_event_goes_on(
    tmp_path: Path, source: tuple[av.VideoStream, list[av.Packet]]
) -> None:
    """A visit that lasts hours keeps its first `max_length` seconds, not a clip growing until
    the disk is full: ev1 reaches the limit packet by packet, ev2 from the buffered seconds it
    starts with (6 s back to the keyframe, more than the limit)."""
    stream, packets = source
    config = RecordConfig(pre_roll=1, post_roll=1, max_length=2)
    async with recording(tmp_path, config) as (recorder, reports):
        recorder.opened(stream)
        recorder.begin("ev1", time.monotonic())
        play(recorder, packets, 1)
        recorder.begin("ev2", time.monotonic())
        play(recorder, packets, 2)
        await wait_for_async(
            lambda: {r[0] for r in reports if r[1]} == {"ev1", "ev2"}, "both clips done"
        )  # neither event ended
    frame = 1 / float(stream.average_rate or 1)
    for event_id in ("ev1", "ev2"):
        (duration,) = [r[2] for r in reports if r[:2] == (event_id, True)]
        assert duration is not None
        assert 2 <= duration <= 2 + frame + 0.001
        assert clip_duration(tmp_path / f"{event_id}.mp4") == pytest.approx(duration, abs=0.2)
