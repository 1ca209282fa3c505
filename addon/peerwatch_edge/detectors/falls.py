"""Falls from MoveNet keypoints, judged over a short time window.

Like Ambianic's fall detector this compares the spine (hip midpoint to shoulder midpoint) of a
person now with the same person a few seconds before, and retries a weak pose with the picture
turned ±90° (the model knows upright people best). Poses are estimated in the person boxes the
object model finds that could hold someone upright (tall, not cut by the frame) or someone down
near where a person stood lately: a pose anywhere else could change nothing; a standing pose is
reused while its box stays put. While someone seen standing lately is seen neither standing nor
down, they are also searched for around where they stood and on the whole frame, so that a
fallen person the object model misses or boxes badly is still found; the best pose per person
is kept. As
MoveNet also finds confident "people" in clutter, a searched pose counts only if a person box
of the object model (however unsure) agrees with it, or the picture changed there since the
person stood, much more than it did overall.

Unlike Ambianic a fall needs more than a turned spine: the person must first be seen upright
in full view (a confident, steep spine, legs in view, in a tall box the frame does not cut),
then down where they stood: the spine turned and no longer upright, the top of the body dropped
by a good part of the standing height and the hips dropped too. Sitting, bending over, or
leaning into a close camera (a doorbell) thus do not count. Each fall is reported once, on the
first frame that shows the person down or going down.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np

from ..imaging import area, clip_box, iou, resize, square_crop, to_pixels
from ..model import Box, Kind
from .base import Detection, Model

MODEL_FILE: Final = "movenet_single_pose_lightning_ptq.tflite"
POSE_MIN_SCORE: Final = 0.4
"""Person boxes this sure are posed..."""
SURE_PERSON: Final = 0.6
NOBODY_SECONDS: Final = 10.0
"""...but a tall one less sure than SURE_PERSON is not posed again for NOBODY_SECONDS where it
was and no one was found: such boxes are mostly walls, coats and door frames."""
BACKING_MIN_SCORE: Final = 0.25
"""Person boxes this sure, too unsure to pose in, still back a pose found by searching."""
SHOULDERS: Final = (5, 6)
HIPS: Final = (11, 12)
LEGS: Final = (13, 14, 15, 16)
FRAME_EDGE: Final = 0.97
KEYPOINT_GATE: Final = 0.3
WEAK_POSE: Final = 0.4
"""A pose whose keypoints score less than this on average is retried with the picture turned."""
SEARCH_MIN_SCORE: Final = 0.3
"""A pose found by searching (not in a person box) counts only if its keypoints score this."""
BACKED: Final = 0.2
"""A person box overlapping a searched pose this much (IoU) backs it."""
MIN_CHANGE: Final = 15.0
CHANGE_RATIO: Final = 2.5
"""A searched pose where the picture changed by this many grey levels on average, and this many
times more than the whole picture did, is backed by the change."""
SCENE_SIZE: Final = (64, 48)
SEARCH_SECONDS: Final = 3.0
"""How long after last seeing a person standing the search for them down goes on."""
SAME_PERSON: Final = 0.3
"""Poses whose boxes overlap this much (IoU) are of the same person..."""
SAME_PERSON_BOX: Final = 0.7
"""...and so are person boxes this much inside one another (only the surer one is posed)."""
BOX_MARGIN: Final = 1.15
"""The square crop around a person box, as a multiple of its longer side."""
SEARCH_SIDE: Final = 2.2
"""The square searched around where a person stood, in standing heights."""
TALL: Final = 1.1
"""A box at least this much taller than wide (in pixels) holds someone upright, not lying."""
UPRIGHT_MAX_ANGLE: Final = 35.0
MIN_TURN: Final = 40.0
"""A person down has the spine no longer upright, and turned by at least this many degrees
since standing (a camera's roll or a wide lens tilts the vertical: this does not care)."""
STILL: Final = 0.1
"""A person box whose every edge is within this fraction of the standing height of the box a
standing pose was estimated in, on every frame since, holds someone standing still: that pose
is reused (going down drops the top of the box by more, see MIN_TOP_DROP)."""
MIN_TOP_DROP: Final = 0.3
"""The top of the body drops by at least this fraction of the standing height."""
MIN_HIP_DROP: Final = 0.2
"""The hips drop by at least this fraction of the standing height (not so when bending over)."""

type Square = tuple[float, float, float]
"""A square region of a frame as (centre x, centre y, side) in pixels."""
type Search = tuple[Square, Pose]
"""Where to look for someone down, and the pose they were last seen standing in."""


def spine_angle(keypoints: np.ndarray, width: float, height: float) -> float | None:
    """Signed angle of the hips-to-shoulders axis from vertical, in degrees (-180..180), or None
    below the gate.

    `keypoints` is MoveNet's (17, 3) array of (y, x, score), normalised to a width x height
    picture so that the angle is true in pixels.
    """
    shoulders = _midpoint(keypoints, SHOULDERS)
    hips = _midpoint(keypoints, HIPS)
    if shoulders is None or hips is None:
        return None
    dx, dy = (shoulders[1] - hips[1]) * width, (shoulders[0] - hips[0]) * height
    if math.hypot(dx, dy) < 1.0:
        return None
    return math.degrees(math.atan2(dx, -dy))


def torso_angle(keypoints: np.ndarray, width: float, height: float) -> float | None:
    """Angle of the spine from vertical in degrees (0 upright, 90 lying), None if weak."""
    angle = spine_angle(keypoints, width, height)
    return None if angle is None else abs(angle)


def _midpoint(keypoints: np.ndarray, pair: tuple[int, int]) -> tuple[float, float] | None:
    """(y, x) midway between the keypoints of `pair` that pass the gate, or None."""
    good = [keypoints[i] for i in pair if keypoints[i, 2] >= KEYPOINT_GATE]
    if not good:
        return None
    return (
        sum(float(k[0]) for k in good) / len(good),
        sum(float(k[1]) for k in good) / len(good),
    )


@dataclass(slots=True, frozen=True, eq=False)
class Pose:
    """A person's posture in one frame: keypoints (y, x, score) normalised to the frame."""

    time: float
    keypoints: np.ndarray
    width: int
    height: int
    """The frame's size in pixels."""
    person: Box | None = None
    """The object detector's box the pose was estimated in (None: found by searching)."""
    spine: float | None = field(init=False)
    """Signed spine angle from vertical (degrees), None if the keypoints are weak."""
    hips: float | None = field(init=False)
    """Height of the hips in the frame (0 top, 1 bottom), None if weak."""

    def __post_init__(self) -> None:
        hips = _midpoint(self.keypoints, HIPS)
        object.__setattr__(self, "spine", spine_angle(self.keypoints, self.width, self.height))
        object.__setattr__(self, "hips", None if hips is None else hips[0])

    @property
    def score(self) -> float:
        """Mean keypoint confidence."""
        return float(self.keypoints[:, 2].mean())

    @property
    def box(self) -> Box:
        """The person's box: the detector's, else around the confident keypoints."""
        return self.person if self.person is not None else self._around(range(len(self.keypoints)))

    @property
    def torso(self) -> Box:
        """The box around the confident shoulders and hips."""
        return self._around((*SHOULDERS, *HIPS))

    def _around(self, points: Iterable[int]) -> Box:
        """The box around the confident keypoints of `points`, with a margin."""
        chosen = self.keypoints[list(points)]
        good = chosen[chosen[:, 2] >= KEYPOINT_GATE]
        if not len(good):
            return (0.0, 0.0, 0.0, 0.0)
        (ymin, xmin), (ymax, xmax) = good[:, :2].min(axis=0), good[:, :2].max(axis=0)
        pad_x, pad_y = (xmax - xmin) * 0.1, (ymax - ymin) * 0.1
        return clip_box((xmin - pad_x, ymin - pad_y, xmax + pad_x, ymax + pad_y))

    @property
    def angle(self) -> float | None:
        """Spine angle from vertical in degrees (0 upright, 90 lying), None if weak."""
        return None if self.spine is None else abs(self.spine)

    @property
    def aspect(self) -> float:
        """Box height / width in pixels."""
        return aspect(self.box, self.width, self.height)

    @property
    def legs(self) -> bool:
        """A knee or ankle passes the gate: the whole body is in view."""
        return bool((self.keypoints[list(LEGS), 2] >= KEYPOINT_GATE).any())

    @property
    def standing(self) -> bool:
        """A confident, steep spine in a tall box."""
        steep = self.angle is not None and self.angle <= UPRIGHT_MAX_ANGLE
        return steep and self.aspect >= TALL

    @property
    def upright(self) -> bool:
        """Standing in full view: legs in view, in a box that could hold someone upright."""
        return self.standing and self.legs and could_be_upright(self.box, self.width, self.height)

    @property
    def confident(self) -> bool:
        """Keypoints confident enough for a pose found by searching (not in a person box)."""
        return self.score >= SEARCH_MIN_SCORE and self.angle is not None

    def backed(self, boxes: list[Box]) -> bool:
        """Tell whether one of the object model's person `boxes` agrees with this pose."""
        return any(iou(self.box, box) >= BACKED for box in boxes)

    def turn(self, before: Pose) -> float:
        """How far the spine turned since `before`, in degrees (0..180; 0 if either is weak)."""
        if self.spine is None or before.spine is None:
            return 0.0
        return abs((self.spine - before.spine + 180.0) % 360.0 - 180.0)

    def down_from(self, before: Pose) -> bool:
        """Tell whether this pose is the person of upright `before` down or going down."""
        if self.angle is None or self.hips is None or before.hips is None:
            return False
        standing = before.box[3] - before.box[1]
        return (
            self.angle > UPRIGHT_MAX_ANGLE
            and self.turn(before) >= MIN_TURN
            and self.box[1] - before.box[1] >= MIN_TOP_DROP * standing
            and self.hips - before.hips >= MIN_HIP_DROP * standing
            and self.near(before)
        )

    def near(self, before: Pose) -> bool:
        """Tell whether this pose's box is within one body height of where `before` stood."""
        return near(self.box, before)


def near(box: Box, before: Pose) -> bool:
    """Tell whether `box` is within one body height of where `before` stood."""
    w, h = before.width, before.height
    feet_x = (before.box[0] + before.box[2]) / 2 * w
    feet_y = before.box[3] * h
    nearest_x = min(max(feet_x, box[0] * w), box[2] * w)
    nearest_y = min(max(feet_y, box[1] * h), box[3] * h)
    body = (before.box[3] - before.box[1]) * h
    return math.hypot(feet_x - nearest_x, feet_y - nearest_y) <= body


def could_be_upright(box: Box, width: int, height: int) -> bool:
    """Whether a box could hold someone upright in full view: tall, and the bottom of the frame
    does not cut it."""
    return aspect(box, width, height) >= TALL and box[3] < FRAME_EDGE


def aspect(box: Box, width: int, height: int) -> float:
    """A box's height / width in pixels of a width x height frame."""
    x0, y0, x1, y1 = to_pixels(box, width, height)
    return (y1 - y0) / max(1.0, x1 - x0)


def overlap(a: Box, b: Box) -> float:
    """How much of the smaller of two boxes lies in the other (0..1)."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    smaller = min(area(a), area(b))
    return ix * iy / smaller if smaller > 0 else 0.0


def scene(image: np.ndarray) -> np.ndarray:
    """A frame as a small grey picture, to tell later where it changed."""
    step = max(1, image.shape[1] // (2 * SCENE_SIZE[0]))
    return resize(image[::step, ::step], *SCENE_SIZE).mean(axis=2, dtype=np.float32)


def box_square(box: Box, width: int, height: int) -> Square:
    """The square crop around a person box."""
    x0, y0, x1, y1 = to_pixels(box, width, height)
    return (x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0) * BOX_MARGIN


def search_square(standing: Pose) -> Square:
    """The square around where a person stood that holds them if they fell there."""
    x0, y0, x1, y1 = to_pixels(standing.box, standing.width, standing.height)
    tall = y1 - y0
    return (x0 + x1) / 2, y1 - 0.1 * tall, SEARCH_SIDE * tall


def with_found(poses: list[Pose], found: list[Pose]) -> list[Pose]:
    """`poses` (one per person box) with the poses `found` by searching: each takes the place
    of the poses its box overlaps if it is better than all of them, or adds a person."""
    kept = list(poses)
    for pose in sorted(found, key=lambda p: -p.score):
        overlapping = [k for k in kept if iou(pose.box, k.box) >= SAME_PERSON]
        if all(pose.score > k.score for k in overlapping):
            kept = [k for k in kept if k not in overlapping] + [pose]
    return kept


class PoseEstimator:
    """MoveNet SinglePose on a square crop of a frame, turned ±90° when the pose is weak."""

    def __init__(self, models_dir: Path, num_threads: int = 1) -> None:
        self.model = Model(models_dir / MODEL_FILE, num_threads)

    def pose(
        self,
        image: np.ndarray,
        square: Square,
        when: float,
        person: Box | None = None,
        *,
        turn: bool = False,
    ) -> Pose:
        """Estimate the posture of the person in `square` (in the object model's box `person`
        if it found one); `turn`: as `turned` does."""
        crop = Crop(image, square, self.model.width)
        pose = self._pose(crop, when, person, 0)
        return self._turned(crop, pose) if turn else pose

    def turned(self, image: np.ndarray, square: Square, pose: Pose) -> Pose:
        """`pose`, estimated in `square`, or if it is weak, the best of it and the poses in the
        crop turned each way (the model knows upright people best)."""
        return self._turned(Crop(image, square, self.model.width), pose)

    def _turned(self, crop: Crop, pose: Pose) -> Pose:
        best = pose
        for turns in (1, -1):
            if best.score >= WEAK_POSE:
                break
            other = self._pose(crop, pose.time, pose.person, turns)
            if other.score > best.score:
                best = other
        return best

    def _pose(self, crop: Crop, when: float, person: Box | None, turns: int) -> Pose:
        """The pose in a crop turned `turns` quarter turns anticlockwise."""
        turned = np.ascontiguousarray(np.rot90(crop.pixels, turns))
        (keypoints,) = self.model.run(turned.astype(self.model.input_dtype)[None])
        points = keypoints[0, 0].copy()
        y, x = points[:, 0].copy(), points[:, 1].copy()
        if turns == 1:  # turned anticlockwise: a crop point (y, x) is at (1 - x, y)
            points[:, 0], points[:, 1] = x, 1.0 - y
        elif turns == -1:  # turned clockwise: a crop point (y, x) is at (x, 1 - y)
            points[:, 0], points[:, 1] = 1.0 - x, y
        return crop.to_frame(points, when, person)


class Crop:
    """A square of a frame scaled to the model's input: cropped from every `step`th pixel (to
    about 1.5 times `size`) so that a large square costs no more than a small one, then
    resized to `size`."""

    def __init__(self, image: np.ndarray, square: Square, size: int) -> None:
        self.height, self.width = image.shape[:2]
        cx, cy, side = square
        step = max(1, round(side / (1.5 * size)))
        crop, (x0, y0, crop_side) = square_crop(
            image[::step, ::step], cx / step, cy / step, side / step
        )
        self.pixels = resize(crop, size, size)
        self.x0, self.y0, self.side = x0 * step, y0 * step, crop_side * step
        """Where the crop is in the frame, in pixels."""

    def to_frame(self, points: np.ndarray, when: float, person: Box | None) -> Pose:
        """The pose of keypoints normalised to the crop."""
        points[:, 0] = (self.y0 + points[:, 0] * self.side) / self.height
        points[:, 1] = (self.x0 + points[:, 1] * self.side) / self.width
        return Pose(when, points, self.width, self.height, person)


class FallJudge:
    """Per-camera memory of postures; says when a person seen upright is down soon after."""

    def __init__(self, window: float = 10.0) -> None:
        self.window = window
        self._history: deque[Pose] = deque()
        """The upright poses of the last `window` seconds."""
        self._scenes: dict[float, np.ndarray] = {}
        """`scene`s of the frames with someone upright, by time, for `SEARCH_SECONDS`."""

    def searches(self, poses: list[Pose], now: float) -> list[Search]:
        """Where to look for people seen upright lately whom `poses` (this frame's) show
        neither still standing nor down: around where each stood, and the whole frame; each
        with the upright pose it looks for."""
        missing: list[Pose] = []
        for before in reversed(self._history):
            if now - before.time > SEARCH_SECONDS:
                continue
            if any(iou(before.box, m.box) > 0 for m in missing):
                continue  # an earlier sighting of someone already searched for
            if not any(p.near(before) and (p.standing or p.down_from(before)) for p in poses):
                missing.append(before)
        if not missing:
            return []
        squares = [(search_square(m), m) for m in missing]
        width, height = missing[0].width, missing[0].height
        frame_side = max(width, height)
        if max(s[2] for s, _ in squares) < 0.8 * frame_side:
            squares.append(((width / 2, height / 2, frame_side), missing[0]))
        return squares

    def stood_near(self, box: Box, now: float) -> bool:
        """Tell whether someone seen upright within the window before `now` stood near `box`
        (only then can a pose there be a fall)."""
        return any(0 < now - h.time <= self.window and near(box, h) for h in self._history)

    def changed(self, before: Pose, scene: np.ndarray, box: Box) -> bool:
        """Tell whether the picture changed in `box` since `before` was seen, much more than
        it did overall (a camera that moved, or another camera's frames, changed everywhere)."""
        then = self._scenes.get(before.time)
        if then is None:
            return False
        diff = np.abs(scene - then)
        rows, cols = diff.shape
        x0, y0, x1, y1 = (round(v) for v in to_pixels(box, cols, rows))
        inside = diff[y0 : max(y1, y0 + 1), x0 : max(x1, x0 + 1)]
        change = float(inside.mean()) if inside.size else 0.0
        return change >= MIN_CHANGE and change >= CHANGE_RATIO * float(diff.mean())

    def judge(self, poses: list[Pose], scene: np.ndarray | None = None) -> list[Detection]:
        """Add this frame's poses (and its `scene`, kept while someone stands in it); return a
        fall for each person down since seen upright."""
        if not poses:
            return []
        now = max(p.time for p in poses)
        while self._history and now - self._history[0].time > self.window:
            self._history.popleft()
        self._scenes = {t: s for t, s in self._scenes.items() if now - t <= SEARCH_SECONDS}
        if scene is not None and any(p.upright for p in poses):
            self._scenes[now] = scene
        falls: list[Detection] = []
        for pose in poses:
            fell_from = [h for h in self._history if h.time < pose.time and pose.down_from(h)]
            if not fell_from:
                continue
            before = fell_from[-1]
            torso = float(pose.keypoints[[*SHOULDERS, *HIPS], 2].mean())
            score = (min(1.0, pose.turn(before) / 60.0) + torso) / 2
            falls.append(Detection(Kind.FALL, "fall", score, pose.box))
            # Once per fall: who fell was last seen standing near here; forget them standing.
            self._history = deque(h for h in self._history if not pose.near(h))
        self._history.extend(p for p in poses if p.upright)
        return falls


class Falls:
    """One camera's fall detection: poses where people are, and where people seen standing
    lately are not seen so now, judged against the camera's recent poses."""

    def __init__(self, estimator: PoseEstimator | None, window: float = 10.0) -> None:
        self.estimator = estimator
        self.judge = FallJudge(window)
        self._nobody: list[tuple[float, Box]] = []
        """Unsure tall boxes posed lately in which no one was found, and when."""
        self._still: list[Pose] = []
        """Standing poses as estimated, reused while a person box stays where each was."""
        self._lock = threading.Lock()
        """Held while a frame is judged: frames are judged one at a time, in order."""

    def find(self, image: np.ndarray, when: float, people: list[Detection]) -> list[Detection]:
        """The falls in a frame taken at `when` whose person boxes (any score from
        `BACKING_MIN_SCORE`) are `people`."""
        if self.estimator is None:
            return []
        height, width = image.shape[:2]
        tall = {id(p): aspect(p.box, width, height) >= TALL for p in people}
        backing = [p.box for p in people if not tall[id(p)]]
        with self._lock:
            posed = [
                p
                for p in self._to_pose(people, tall, when)
                if could_be_upright(p.box, width, height) or self.judge.stood_near(p.box, when)
            ]
            still, self._still = self._still, []
            poses = [self._pose(self.estimator, image, p.box, when, still) for p in posed]
            self._nobody += [
                (when, p.box)
                for p, pose in zip(posed, poses, strict=True)
                if _unsure_and_tall(p, tall) and not pose.confident
            ]
            searches = self.judge.searches(poses, when)
            if searches:  # someone may have fallen: retry weak poses in flat boxes turned
                poses = [
                    pose
                    if pose.aspect >= TALL
                    else self.estimator.turned(image, box_square(pose.box, width, height), pose)
                    for pose in poses
                ]
            now = scene(image) if searches or any(p.upright for p in poses) else None
            found = [
                pose
                for pose, before in self._search(self.estimator, image, when, searches)
                if pose.backed(backing)
                or (now is not None and self.judge.changed(before, now, pose.torso))
            ]
            return self.judge.judge(with_found(poses, found), now)

    def _pose(
        self,
        estimator: PoseEstimator,
        image: np.ndarray,
        person: Box,
        when: float,
        still: list[Pose],
    ) -> Pose:
        """The pose in a person box: a `still` standing pose estimated in much the same box (kept
        for the next frame), else a new one (kept if standing)."""
        for before in still:
            if _still(person, before):
                self._still.append(before)
                return Pose(when, before.keypoints, before.width, before.height, person)
        height, width = image.shape[:2]
        pose = estimator.pose(image, box_square(person, width, height), when, person)
        if pose.standing:
            self._still.append(pose)
        return pose

    def _to_pose(
        self, people: list[Detection], tall: dict[int, bool], when: float
    ) -> list[Detection]:
        """The person boxes worth a pose: sure enough, one per person (boxes inside a surer
        one are the same person), and not unsure tall ones where no one was found lately."""
        self._nobody = [(t, box) for t, box in self._nobody if when - t <= NOBODY_SECONDS]
        posed: list[Detection] = []
        for person in sorted(people, key=lambda p: -p.score):
            if person.score < POSE_MIN_SCORE:
                continue
            if any(overlap(person.box, p.box) >= SAME_PERSON_BOX for p in posed):
                continue
            if _unsure_and_tall(person, tall) and any(
                iou(person.box, box) >= SAME_PERSON_BOX for _, box in self._nobody
            ):
                continue
            posed.append(person)
        return posed

    @staticmethod
    def _search(
        estimator: PoseEstimator, image: np.ndarray, when: float, searches: list[Search]
    ) -> Iterator[tuple[Pose, Pose]]:
        """The confident poses found in the `searches`, each with the standing pose it is for."""
        for square, before in searches:
            pose = estimator.pose(image, square, when, turn=True)
            if pose.confident:
                yield pose, before


def _still(box: Box, before: Pose) -> bool:
    """Whether each edge of `box` is within STILL standing heights of the box `before` was
    estimated in."""
    if before.person is None:
        return False
    now = to_pixels(box, before.width, before.height)
    then = to_pixels(before.person, before.width, before.height)
    return max(abs(a - b) for a, b in zip(now, then, strict=True)) <= STILL * (then[3] - then[1])


def _unsure_and_tall(person: Detection, tall: dict[int, bool]) -> bool:
    """Whether a person box is tall and less sure than `SURE_PERSON`."""
    return tall[id(person)] and person.score < SURE_PERSON
