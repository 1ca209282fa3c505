"""The camera's three stages on their own: feed, analyser rules, event pipeline, and settings."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from peerwatch_edge.bus import EventBus, Subscription
from peerwatch_edge.camera import Analysis, Frame
from peerwatch_edge.camera.analyser import Rules
from peerwatch_edge.camera.events import EventPipeline, Outlets
from peerwatch_edge.camera.feed import Feed
from peerwatch_edge.config import CameraConfig, parse_config
from peerwatch_edge.detectors import Detection
from peerwatch_edge.model import Event, Kind
from peerwatch_edge.settings import CameraSettings
from peerwatch_edge.sources import open_source
from peerwatch_edge.store import EventStore
from tests.support import wait_for_async


def camera_config(tmp_path: Path, source: str = "file.mkv", **extra: object) -> CameraConfig:
    config = parse_config(
        {
            "data_dir": str(tmp_path / "data"),
            "models_dir": str(tmp_path),
            "cameras": [{"id": "door", "source": source, **extra}],
        },
        tmp_path,
    )
    return config.cameras[0]


class RecordingStore(EventStore):
    """The real store, remembering the event objects it was handed."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__(data_dir)
        self.handed: list[Event] = []

    async def save(
        self,
        event: Event,
        snapshot: tuple[bytes, bytes] | None = None,
        face: bytes | None = None,
    ) -> bool:
        self.handed.append(event)
        return await super().save(event, snapshot, face)


class Analyses:
    """Analyses fed by the test in place of the camera's analyser thread."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Analysis] = asyncio.Queue()
        self.tracking = False

    async def take(self) -> Analysis:
        return await self.queue.get()


def person_seen(seq: int, score: float = 0.8) -> Analysis:
    image = np.zeros((90, 160, 3), dtype=np.uint8)
    image.flags.writeable = False
    frame = Frame(image, datetime.now(UTC), float(seq), seq)
    person = Detection(Kind.OBJECT, "person", score, (0.2, 0.1, 0.5, 0.9))
    return Analysis(frame, ((person, ("porch",)),))


@pytest.fixture
def blocked_executor() -> Iterator[tuple[ThreadPoolExecutor, threading.Event]]:
    """A one-thread executor busy until the test sets the event: snapshots wait to be drawn."""
    release = threading.Event()
    executor = ThreadPoolExecutor(1)
    executor.submit(release.wait, 30)
    yield executor, release
    release.set()
    executor.shutdown(wait=True)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[RecordingStore]:
    store = RecordingStore(tmp_path / "data")
    await store.open()
    yield store
    await store.close()


async def next_message(subscription: Subscription, kind: str) -> dict[str, Any]:
    async with asyncio.timeout(30):
        while (message := await subscription.get())["type"] != kind:
            pass
    return message


@asynccontextmanager
async def running(
    tmp_path: Path, store: EventStore, executor: ThreadPoolExecutor
) -> AsyncIterator[tuple[EventPipeline, Analyses, Subscription]]:
    """A started pipeline fed by the test, and its bus messages; stopped on the way out."""
    bus = EventBus()
    pipeline = EventPipeline(camera_config(tmp_path), Outlets(store, bus, executor))
    analyses = Analyses()
    async with bus.subscribe() as subscription:
        pipeline.start(analyses)
        try:
            yield pipeline, analyses, subscription
        finally:
            await pipeline.stop()


async def test_pipeline_pushes_start_first_and_readers_wait_for_its_snapshot(
    tmp_path: Path,
    store: RecordingStore,
    blocked_executor: tuple[ThreadPoolExecutor, threading.Event],
) -> None:
    executor, release = blocked_executor
    async with running(tmp_path, store, executor) as (pipeline, analyses, subscription):
        analyses.queue.put_nowait(person_seen(1, 0.9))
        analyses.queue.put_nowait(person_seen(2))  # confirmed on the second frame
        start = (await next_message(subscription, "event.start"))["event"]
        assert not start["has_snapshot"]
        assert start["score"] == 0.9  # the best seen: the snapshot is drawn from its frame
        assert analyses.tracking  # the gate is told objects are being tracked
        (track,) = pipeline.tracker.tracks
        waiter = asyncio.create_task(pipeline.drawing.wait(start["id"]))
        await asyncio.wait_for(pipeline.drawing.wait("another"), 5)
        for _ in range(20):
            await asyncio.sleep(0)
        assert not waiter.done()  # the snapshot is still being drawn

        release.set()
        await asyncio.wait_for(waiter, 30)
        update = (await next_message(subscription, "event.update"))["event"]
        assert update["id"] == start["id"]
        assert update["has_snapshot"]
        stored = await store.get_event(start["id"])
        assert stored is not None
        assert stored.has_snapshot
        assert stored.zones == ["porch"]
    end = (await next_message(subscription, "event.end"))["event"]
    assert end["ended_at"] is not None
    assert not pipeline.tracker.tracks  # stop ended every track
    assert len(store.handed) >= 3  # start, snapshot update, end
    assert all(event is not track.event for event in store.handed)  # copies, never the live one


async def test_pipeline_ends_events_when_detection_is_switched_off(
    tmp_path: Path, store: RecordingStore
) -> None:
    with ThreadPoolExecutor(1) as executor:
        async with running(tmp_path, store, executor) as (pipeline, analyses, subscription):
            analyses.queue.put_nowait(person_seen(1))
            analyses.queue.put_nowait(person_seen(2))
            start = (await next_message(subscription, "event.start"))["event"]
            pipeline.enabled = False
            analyses.queue.put_nowait(person_seen(3))
            end = (await next_message(subscription, "event.end"))["event"]
    assert end["id"] == start["id"]
    assert not analyses.tracking


def test_rules_keep_wanted_labels_scores_zones_and_sizes(tmp_path: Path) -> None:
    lower = [[0.0, 0.5], [1.0, 0.5], [1.0, 1.0], [0.0, 1.0]]
    config = camera_config(
        tmp_path,
        detect=["object", "face"],
        objects={"labels": ["person", "dog"], "min_score": {"person": 0.6, "dog": 0.4}},
        zones={"lower": lower},
        min_area=0.05,
    )
    rules = Rules(config)
    assert rules.min_score == 0.4  # what the detectors must report at least
    person = Detection(Kind.OBJECT, "person", 0.7, (0.2, 0.2, 0.5, 0.9))
    weak_person = Detection(Kind.OBJECT, "person", 0.5, (0.2, 0.2, 0.5, 0.9))
    dog = Detection(Kind.OBJECT, "dog", 0.45, (0.6, 0.6, 0.9, 0.9))
    cat = Detection(Kind.OBJECT, "cat", 0.9, (0.6, 0.6, 0.9, 0.9))
    tiny = Detection(Kind.OBJECT, "person", 0.9, (0.1, 0.8, 0.12, 0.85))
    sky = Detection(Kind.OBJECT, "person", 0.9, (0.1, 0.0, 0.5, 0.4))
    face = Detection(Kind.FACE, "face", 0.9, (0.3, 0.55, 0.32, 0.58))  # small faces count
    kept = rules.keep([person, weak_person, dog, cat, tiny, sky, face])
    assert kept == ((person, ("lower",)), (dog, ("lower",)), (face, ("lower",)))


async def test_feed_frames_are_read_only_and_counted(tmp_path: Path, video_path: Path) -> None:
    config = camera_config(tmp_path, str(video_path), fps=10)
    statuses: list[bool] = []
    feed = Feed(config, open_source(config), lambda: statuses.append(feed.online))
    taken: list[tuple[Frame, bool]] = []
    feed.start(lambda frame, _picture, paced: taken.append((frame, paced)))
    try:
        await wait_for_async(lambda: len(taken) >= 3 and feed.online, "three frames")
        frame, paced = taken[-1]
        assert paced
        assert not frame.image.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            frame.image[0, 0, 0] = 1
        counts = feed.counts()
        assert counts.frames >= 3
        assert counts.last_frame_at is not None
        latest = feed.latest()
        assert latest is not None
        assert latest.seq >= frame.seq
    finally:
        await feed.stop()
    assert statuses[0] is True
    assert statuses[-1] is False
    assert feed.error == "stopped"


def test_settings_are_written_durably_on_their_own_thread(tmp_path: Path) -> None:
    settings = CameraSettings(tmp_path)
    assert settings.detection_enabled("door")  # on until switched off
    settings.save({"door": False, "yard": True})
    settings.close()
    again = CameraSettings(tmp_path)
    assert not again.detection_enabled("door")
    assert again.detection_enabled("yard")
    again.close()

    (tmp_path / "cameras.json").write_text('{"door": {"detection_enabled": "no"}, "x": 3}')
    assert CameraSettings(tmp_path).detection_enabled("door")  # bad values: the default
    assert CameraSettings(tmp_path).detection_enabled("x")


def test_settings_write_failure_is_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    settings = CameraSettings(blocker / "data")
    settings.save({"door": False})
    settings.close()
    assert "cannot save camera settings" in caplog.text
