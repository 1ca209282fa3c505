"""The pipeline's pure stages: motion gate, zones, tracker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from peerwatch_edge.detectors import Detection
from peerwatch_edge.imaging import area
from peerwatch_edge.model import Kind
from peerwatch_edge.motion import MotionGate
from peerwatch_edge.tracker import Tracker
from peerwatch_edge.zones import inside, zones_of

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def scene(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (360, 640, 3), dtype=np.uint8)


def test_motion_gate_skips_still_scenes_and_runs_periodically() -> None:
    gate = MotionGate(sensitivity=0.5, interval=10.0)
    frame = scene()
    assert gate.should_run(frame, 0.0)  # first frame
    noisy = np.clip(frame.astype(np.int16) + 3, 0, 255).astype(np.uint8)  # sensor noise
    assert not gate.should_run(noisy, 1.0)
    assert not gate.should_run(frame, 2.0)
    moved = frame.copy()
    moved[100:200, 200:300] = 255  # something entered: ~4% of the frame
    assert gate.should_run(moved, 3.0)
    assert gate.should_run(frame, 13.5)  # the interval elapsed
    assert gate.should_run(frame, 14.0, busy=True)  # a track is live


def test_sensitivity_changes_what_counts() -> None:
    frame = scene()
    small = frame.copy()
    small[10:40, 10:50] = 255  # 0.5% of the frame
    calm, keen = MotionGate(0.1), MotionGate(0.95)
    for gate in (calm, keen):
        gate.moved(frame)
    assert not calm.moved(small)
    assert keen.moved(small)


def test_zones() -> None:
    porch = ((0.1, 0.5), (0.6, 0.5), (0.6, 1.0), (0.1, 1.0))
    assert inside((0.3, 0.7), porch)
    assert not inside((0.7, 0.7), porch)
    zones = {"porch": porch, "drive": ((0.5, 0.0), (1.0, 0.0), (1.0, 1.0), (0.5, 1.0))}
    assert zones_of((0.2, 0.1, 0.4, 0.9), zones) == ["porch"]  # the feet decide
    assert zones_of((0.5, 0.1, 0.6, 0.9), zones) == ["porch", "drive"]
    assert zones_of((0.2, 0.1, 0.4, 0.4), zones) == []
    assert area((0.0, 0.0, 0.5, 0.5)) == 0.25


def person(box: tuple[float, float, float, float], score: float = 0.7) -> Detection:
    return Detection(Kind.OBJECT, "person", score, box)


def test_tracker_one_event_per_walk_with_best_frame() -> None:
    tracker = Tracker("door", end_after=2.0)
    frames = [np.full((2, 2, 3), i, dtype=np.uint8) for i in range(6)]
    actions: list[str] = []
    scores = [0.6, 0.8, 0.7, 0.65]
    for i, score in enumerate(scores):
        box = (0.1 + 0.05 * i, 0.2, 0.3 + 0.05 * i, 0.9)
        zones = ["porch"] if i == 2 else []
        wall = T0 + timedelta(seconds=i * 0.2)
        changes = tracker.update([(person(box, score), zones)], frames[i], i * 0.2, wall)
        actions.append(",".join(action for action, _ in changes))
    assert actions[:2] == ["", "start"]  # confirmed on the second frame in a row
    assert "start" not in actions[2:]
    (track,) = tracker.tracks
    assert track.event.started_at == T0  # when first seen, not when confirmed
    assert track.best.score == 0.8
    assert track.best_frame is frames[1]
    assert track.event.zones == ["porch"]
    assert tracker.update([], frames[5], 1.0, T0 + timedelta(seconds=1)) == []
    ended = tracker.expire(3.0, T0 + timedelta(seconds=3))
    assert [a for a, _ in ended] == ["end"]
    event = ended[0][1].event
    assert event.ended_at == T0 + timedelta(seconds=0.6)  # when last seen
    assert not tracker.busy


def test_tracker_ignores_one_frame_flickers() -> None:
    tracker = Tracker("door", end_after=2.0, confirm=3)
    frame = np.zeros((2, 2, 3), dtype=np.uint8)
    box = (0.4, 0.2, 0.6, 0.9)
    changes: list[str] = []
    for i, seen in enumerate([True, False, True, True, False, True, False, False]):
        found = [(person(box), [])] if seen else []
        changes += [a for a, _ in tracker.update(found, frame, i * 0.2, T0)]
    assert changes == []  # never three frames in a row
    for i in range(3):
        changes += [a for a, _ in tracker.update([(person(box), [])], frame, 2 + i * 0.2, T0)]
    assert changes == ["start"]


def test_tracker_keeps_one_visit_across_a_jump_and_a_short_occlusion() -> None:
    """A looping file puts the person back at the start of the clip: still the same visit."""
    tracker = Tracker("door", end_after=2.0, confirm=1)
    frame = np.zeros((2, 2, 3), dtype=np.uint8)
    left, right = (0.0, 0.2, 0.2, 0.9), (0.8, 0.2, 1.0, 0.9)
    actions = [a for a, _ in tracker.update([(person(left), [])], frame, 0.0, T0)]
    actions += [a for a, _ in tracker.update([(person(right, 0.9), [])], frame, 0.2, T0)]
    actions += [a for a, _ in tracker.update([], frame, 1.0, T0)]  # hidden for a while
    actions += [a for a, _ in tracker.update([(person(left), [])], frame, 1.8, T0)]
    assert actions == ["start", "update", "update"]
    assert len(tracker.tracks) == 1
    # A second person while the first is still seen is a second visit.
    two = [(person(left), []), (person(right), [])]
    assert [a for a, _ in tracker.update(two, frame, 2.0, T0)] == ["start"]
    # Both leave; one comes back after `end_after`: a new visit.
    assert [a for a, _ in tracker.update([], frame, 4.5, T0)] == ["end", "end"]
    assert [a for a, _ in tracker.update([(person(left), [])], frame, 5.0, T0)] == ["start"]


def test_tracker_separates_objects_and_labels() -> None:
    tracker = Tracker("door", confirm=1)
    frame = np.zeros((2, 2, 3), dtype=np.uint8)
    found = [
        (person((0.0, 0.0, 0.2, 0.5)), []),
        (person((0.7, 0.0, 0.9, 0.5)), []),
        (Detection(Kind.OBJECT, "dog", 0.7, (0.0, 0.0, 0.2, 0.5)), []),
    ]
    changes = tracker.update(found, frame, 0.0, T0)
    assert [a for a, _ in changes] == ["start"] * 3
    assert len({t.event.id for _, t in changes}) == 3
    # A small face that jumped beside its last box is still the same face.
    face = Detection(Kind.FACE, "face", 0.9, (0.40, 0.20, 0.45, 0.26))
    tracker.update([(face, [])], frame, 0.1, T0)
    moved = Detection(Kind.FACE, "face", 0.9, (0.44, 0.22, 0.49, 0.28))
    assert [a for a, _ in tracker.update([(moved, [])], frame, 0.2, T0)] != ["start"]
    ended = tracker.end_all(T0)
    assert len(ended) == 4


def test_tracker_reports_a_fall_at_once() -> None:
    """A fall is judged over many frames and reported once: it needs no confirming frames."""
    tracker = Tracker("door", confirm=3)
    fall = Detection(Kind.FALL, "fall", 0.9, (0.2, 0.5, 0.8, 0.9))
    frame = np.zeros((2, 2, 3), dtype=np.uint8)
    assert [a for a, _ in tracker.update([(fall, [])], frame, 0.0, T0)] == ["start"]
