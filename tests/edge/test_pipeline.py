"""The whole pipeline on the real clip as a file camera: events, snapshots, switches, frames."""

from __future__ import annotations

import asyncio
import io
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from peerwatch_edge.bus import EventBus, Subscription
from peerwatch_edge.camera import MAX_PENDING, Camera
from peerwatch_edge.config import EdgeConfig, parse_config
from peerwatch_edge.detectors import ModelError
from peerwatch_edge.edge import Edge


def make_config(tmp_path: Path, models_dir: Path, *cameras: dict[str, Any]) -> EdgeConfig:
    return parse_config(
        {
            "data_dir": str(tmp_path / "data"),
            "models_dir": str(models_dir),
            "cameras": list(cameras),
        },
        tmp_path,
    )


def clip(video_path: Path, camera_id: str = "door", **extra: object) -> dict[str, Any]:
    return {"id": camera_id, "source": str(video_path), "loop": False, "end_after": 1, **extra}


async def collect(
    subscription: Subscription, until: str | Callable[[dict[str, Any]], bool]
) -> list[dict[str, Any]]:
    """Gather bus messages until one of type `until` (or matching `until`) arrives."""
    done = until if callable(until) else lambda message: message["type"] == until
    messages: list[dict[str, Any]] = []
    async with asyncio.timeout(30):
        while not messages or not done(messages[-1]):
            messages.append(await subscription.get())
    return messages


@pytest.mark.slow
async def test_clip_makes_one_person_event_with_snapshot(
    tmp_path: Path, models_dir: Path, video_path: Path
) -> None:
    edge = Edge(make_config(tmp_path, models_dir, clip(video_path)))
    async with edge.bus.subscribe() as subscription:
        await edge.start()
        try:
            messages = await collect(subscription, "event.end")
            stats = edge.stats()
        finally:
            await edge.stop()
    types = [m["type"] for m in messages]
    assert types.count("event.start") == 1
    assert "event.update" in types
    start = next(m["event"] for m in messages if m["type"] == "event.start")
    end = messages[-1]["event"]
    assert (start["label"], start["kind"], start["camera"]) == ("person", "object", "door")
    assert end["id"] == start["id"]
    assert end["ended_at"] is not None
    assert end["score"] >= start["score"] >= 0.6
    assert {"type": "camera.status"}.items() <= messages[0].items()
    assert messages[0]["camera"]["online"]

    camera_stats = stats["cameras"]["door"]
    assert camera_stats["frames"] >= 20
    assert camera_stats["analysed"] >= 1
    assert stats["detectors"]["object"]["inference_ms"] > 0

    edge = Edge(make_config(tmp_path, models_dir))  # reopen the store: the event persisted
    await edge.start()
    try:
        (event,) = await edge.store.list_events(label="person")
        assert event.id == start["id"]
        assert event.has_snapshot
        assert event.ended_at is not None
        with Image.open(edge.store.snapshot_path(event.id)) as snapshot:
            assert snapshot.size == (1280, 720)
        with Image.open(edge.store.thumbnail_path(event.id)) as thumbnail:
            assert max(thumbnail.size) <= 320
    finally:
        await edge.stop()


@pytest.mark.slow
async def test_frames_jpeg_and_privacy_switch(
    tmp_path: Path, models_dir: Path, video_path: Path
) -> None:
    config = make_config(tmp_path, models_dir, clip(video_path, loop=True, fps=10))
    bus = EventBus()
    edge = Edge(config, bus)
    camera = edge.cameras["door"]
    assert camera.latest_jpeg() is None
    async with bus.subscribe() as subscription:
        await edge.start()
        try:
            async with camera.subscribe_frames() as feed:
                first = await anext(feed)
                second = await anext(feed)
            assert first.image.shape == (720, 1280, 3)
            assert second.time >= first.time
            jpeg = await asyncio.to_thread(camera.latest_jpeg)
            assert jpeg is not None
            assert Image.open(io.BytesIO(jpeg)).size == (1280, 720)
            status = camera.status()
            assert status.online
            assert status.last_frame_at is not None

            camera.detection_enabled = False
            async with asyncio.timeout(5):
                while not _switched_off(await subscription.get()):
                    pass
        finally:
            await edge.stop()
    edge = Edge(config)  # the switch survives a restart
    assert edge.cameras["door"].detection_enabled is False
    assert edge.cameras["door"].status().detection_enabled is False


def _switched_off(message: dict[str, Any]) -> bool:
    return message["type"] == "camera.status" and not message["camera"]["detection_enabled"]


def damaged_copy(video_path: Path, target: Path) -> Path:
    """Copy the clip with bytes of its packets smashed after the header."""
    data = bytearray(video_path.read_bytes())
    rng = random.Random(2)
    for _ in range(20):
        at = rng.randrange(4096, len(data) - 512)
        data[at : at + 16] = rng.randbytes(16)
    target.write_bytes(bytes(data))
    return target


def ended(camera_id: str) -> Callable[[dict[str, Any]], bool]:
    """Match the status message of a file camera that reached its end."""

    def match(message: dict[str, Any]) -> bool:
        status = message.get("camera", {})
        return status.get("id") == camera_id and status.get("error") == "end of file"

    return match


@pytest.mark.slow
async def test_broken_camera_does_not_block_others(
    tmp_path: Path, models_dir: Path, video_path: Path
) -> None:
    garbage = tmp_path / "garbage.mkv"
    garbage.write_bytes(random.Random(1).randbytes(200_000))
    corrupt = damaged_copy(video_path, tmp_path / "corrupt.mkv")
    config = make_config(
        tmp_path,
        models_dir,
        clip(garbage, "garbage"),
        {"id": "gone", "source": "rtsp://cam:secret@127.0.0.1:1/none", "stall_timeout": 2},
        clip(corrupt, "corrupt"),
        clip(video_path, "door"),
    )
    edge = Edge(config)
    async with edge.bus.subscribe() as subscription:
        await edge.start()
        try:
            messages = await collect(subscription, "event.start")
            if not edge.cameras["corrupt"].feed.source.finished:
                await collect(subscription, ended("corrupt"))
            statuses = {c.id: c.status() for c in edge.cameras.values()}
            stats = edge.stats()["cameras"]
        finally:
            await edge.stop()
    assert messages[-1]["event"]["camera"] == "door"
    assert stats["corrupt"]["frames"] >= 25  # damaged frames decode (concealed), none crash
    assert stats["corrupt"]["analysed"] >= 1
    assert statuses["corrupt"].error == "end of file"
    assert not statuses["garbage"].online
    assert "garbage.mkv" in (statuses["garbage"].error or "")
    assert not statuses["gone"].online
    assert "cannot open rtsp://***@127.0.0.1:1/none" in (statuses["gone"].error or "")
    assert "secret" not in (statuses["gone"].error or "")


async def test_missing_model_fails_start_clearly(tmp_path: Path, video_path: Path) -> None:
    edge = Edge(make_config(tmp_path, tmp_path / "no-models", clip(video_path)))
    with pytest.raises(ModelError, match=r"model file not found: .*ssd_mobilenet"):
        await edge.start()
    await edge.stop()


@pytest.mark.slow
async def test_zones_and_min_area(tmp_path: Path, models_dir: Path, video_path: Path) -> None:
    """The same clip, read as fast as it is analysed, through three cameras' filters."""
    fast = {"realtime": False, "motion": {"interval": 0.1}}
    lower = [[0.0, 0.5], [1.0, 0.5], [1.0, 1.0], [0.0, 1.0]]
    corner = [[0.9, 0.0], [1.0, 0.0], [1.0, 0.1], [0.9, 0.1]]
    config = make_config(
        tmp_path,
        models_dir,
        clip(video_path, "porch", zones={"porch": lower, "sky": corner}, **fast),
        clip(video_path, "corner", zones={"sky": corner}, **fast),
        clip(video_path, "huge", min_area=0.9, **fast),
    )
    edge = Edge(config)
    async with edge.bus.subscribe() as subscription:
        await edge.start()
        try:
            pending, event_ended = set(edge.cameras), False
            async with asyncio.timeout(60):
                while pending or not event_ended:
                    message = await subscription.get()
                    event_ended |= message["type"] == "event.end"
                    pending -= {c for c in pending if ended(c)(message)}
        finally:
            await edge.stop()
    edge = Edge(make_config(tmp_path, models_dir))
    await edge.start()
    try:
        events = await edge.store.list_events()
    finally:
        await edge.stop()
    assert [(e.camera, e.label, e.zones) for e in events] == [("porch", "person", ["porch"])]
    assert edge.cameras == {}


@pytest.mark.slow
async def test_person_leaning_into_a_doorbell_is_no_fall(
    tmp_path: Path, models_dir: Path, video_path: Path
) -> None:
    """In the clip a man walks up to a doorbell camera, bends into it and leaves at the bottom:
    a torso going flat near the camera, which angle-only fall detection takes for a fall."""
    door = clip(video_path, "door", realtime=False, detect=["object", "face", "fall"])
    edge = Edge(make_config(tmp_path, models_dir, door))
    async with edge.bus.subscribe() as subscription:
        await edge.start()
        try:
            messages = await collect(subscription, ended("door"))
            models = edge.stats()["detectors"]
        finally:
            await edge.stop()
    starts = [m["event"] for m in messages if m["type"] == "event.start"]
    assert {e["kind"] for e in starts} == {"object"}  # no fall; the face is on the person
    (person,) = {m["event"]["id"]: m["event"] for m in messages if "event" in m}.values()
    assert person["face"]["has_image"]
    # Posed only while a pose could matter: once the frame cuts him off and no one stood in
    # full view there, a pose could be neither upright nor a fall (was: every person frame).
    assert 1 <= models["fall"]["invocations"] <= 10


async def analysed(camera: Camera, count: int) -> None:
    """Return once the camera has analysed `count` frames (checked as live frames arrive)."""
    async with camera.subscribe_frames() as feed, asyncio.timeout(30):
        async for _ in feed:
            if camera.analyser.counts().analysed >= count:
                return


@pytest.mark.slow
async def test_analysis_runs_ahead_of_a_stuck_event_loop_boundedly(
    tmp_path: Path, models_dir: Path, video_path: Path
) -> None:
    """Inference does not wait for the event loop, but keeps at most MAX_PENDING results
    (frames) waiting for it: a stuck loop pauses analysis instead of piling up frames."""
    door = clip(video_path, loop=True, realtime=False, motion={"interval": 0.1})
    edge = Edge(make_config(tmp_path, models_dir, door))
    camera = edge.cameras["door"]
    await edge.start()
    try:
        await analysed(camera, 3)
        before = camera.analyser.counts().analysed

        def ahead() -> int:
            return camera.analyser.counts().analysed - before

        # The point: the event loop is stuck meanwhile (blocking sleeps on its thread). Analysis
        # goes on without it up to the bound (a generous limit for a loaded machine)...
        deadline = time.monotonic() + 60
        while ahead() < MAX_PENDING and time.monotonic() < deadline:
            time.sleep(0.05)  # noqa: ASYNC251
        assert ahead() >= MAX_PENDING
        time.sleep(1.0)  # noqa: ASYNC251 - ...and then no further, however long the loop is stuck
        assert ahead() <= MAX_PENDING + 1
        await analysed(camera, before + ahead() + 3)  # the loop caught up: analysis goes on
    finally:
        await edge.stop()


async def visits(tmp_path: Path, models_dir: Path, camera: dict[str, Any], frames: int) -> Any:
    """Run one camera until it read `frames` frames; return its stored events by kind."""
    edge = Edge(make_config(tmp_path, models_dir, camera))
    await edge.start()
    try:
        async with edge.cameras["door"].subscribe_frames() as feed, asyncio.timeout(120):
            async for _ in feed:
                if edge.cameras["door"].feed.counts().frames >= frames:
                    break
    finally:
        await edge.stop()
    edge = Edge(make_config(tmp_path, models_dir))
    await edge.start()
    try:
        events = await edge.store.list_events(limit=100)
    finally:
        await edge.stop()
    return {kind: [e for e in events if e.kind == kind] for kind in ("object", "face")}


@pytest.mark.slow
async def test_the_clip_looped_five_times_is_one_visit(
    tmp_path: Path, models_dir: Path, video_path: Path
) -> None:
    """At each loop the person (and their face) jumps back to where the clip starts: the same
    visit, not a new event per loop (the face used to start a new event every loop). The face
    is seen on the person: part of their event, with its crop."""
    door = clip(video_path, loop=True, realtime=False, detect=["object", "face"])
    events = await visits(tmp_path, models_dir, door, 5 * 30 + 5)  # 30 frames a loop at 5 fps
    (person,) = events["object"]
    assert person.label == "person"
    assert person.ended_at is not None
    assert events["face"] == []
    assert person.face is not None
    assert person.face.has_image
    assert person.face.score >= 0.9


@pytest.mark.slow
async def test_a_person_who_leaves_and_returns_is_two_visits(
    tmp_path: Path, models_dir: Path, video_path: Path
) -> None:
    """In real time the clip's person leaves after 4 s and the room stays empty for 2 s before
    the loop brings them back: with `end_after` 1 s, that is two visits."""
    door = clip(video_path, loop=True, end_after=1)
    events = await visits(tmp_path, models_dir, door, 30 + 5)
    assert [e.label for e in events["object"]] == ["person", "person"]
