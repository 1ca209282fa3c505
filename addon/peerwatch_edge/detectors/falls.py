"""Falls from MoveNet keypoints on person crops, judged over a short time window.

Like Ambianic's fall detector this compares the torso axis (hip midpoint to shoulder midpoint)
between frames a few seconds apart; unlike it, a pose only counts when its shoulder and hip
keypoints pass a confidence gate, the person box's aspect must agree with the posture (tall when
upright, not tall when lying), and the change must look like a fall in the box too: the lying
person is where the upright one stood, the top of the body dropped by a good part of its standing
height, and the body now takes less height than standing. A person leaning into a close camera
(a doorbell) or cut off by the frame edge thus does not count; nor does anyone never seen
standing in full view (legs included).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

from ..imaging import resize, square_crop, to_pixels
from ..model import Box, Kind
from .base import Detection, Model

MODEL_FILE: Final = "movenet_single_pose_lightning_ptq.tflite"
SHOULDERS: Final = (5, 6)
HIPS: Final = (11, 12)
LEGS: Final = (13, 14, 15, 16)
FRAME_EDGE: Final = 0.97
KEYPOINT_GATE: Final = 0.3
UPRIGHT_MAX_ANGLE: Final = 35.0
LYING_MIN_ANGLE: Final = 55.0
MIN_TOP_DROP: Final = 0.4
"""The top of the body drops by at least this fraction of the standing height."""
MAX_LYING_HEIGHT: Final = 0.8
"""A lying body takes at most this fraction of the standing height."""


@dataclass(slots=True, frozen=True)
class Pose:
    """A person's posture in one frame."""

    time: float
    box: Box
    angle: float | None
    """Torso angle from vertical in degrees (0 upright, 90 lying), None if keypoints are weak."""
    aspect: float
    """Box height / width in pixels."""
    legs: bool = False
    """A knee or ankle passes the gate: the whole body is in view, not cut off by the frame."""

    @property
    def upright(self) -> bool:
        """Standing up in full view: a confident, steep torso and legs in a tall box that the
        bottom of the frame does not cut."""
        steep = self.angle is not None and self.angle <= UPRIGHT_MAX_ANGLE
        return steep and self.legs and self.aspect >= 1.1 and self.box[3] < FRAME_EDGE

    @property
    def lying(self) -> bool:
        """Lying down: a confident, flat torso in a box not much taller than wide."""
        return self.angle is not None and self.angle >= LYING_MIN_ANGLE and self.aspect <= 1.25


def torso_angle(keypoints: np.ndarray, width: float, height: float) -> float | None:
    """Angle of the hips-to-shoulders axis from vertical, in degrees, or None below the gate.

    `keypoints` is MoveNet's (17, 3) array of (y, x, score) normalised to a square crop; width
    and height scale it to pixels so the angle is true in the frame.
    """

    def midpoint(pair: tuple[int, int]) -> tuple[float, float] | None:
        good = [keypoints[i] for i in pair if keypoints[i, 2] >= KEYPOINT_GATE]
        if not good:
            return None
        return (
            sum(float(k[1]) for k in good) / len(good) * width,
            sum(float(k[0]) for k in good) / len(good) * height,
        )

    shoulders, hips = midpoint(SHOULDERS), midpoint(HIPS)
    if shoulders is None or hips is None:
        return None
    dx, dy = shoulders[0] - hips[0], shoulders[1] - hips[1]
    if math.hypot(dx, dy) < 1.0:
        return None
    return math.degrees(math.atan2(abs(dx), -dy))


def _fell(before: Pose, after: Pose, frame_w: float, frame_h: float) -> bool:
    """Tell whether going from upright `before` to lying `after` looks like a fall in the boxes."""
    standing = before.box[3] - before.box[1]
    dropped = after.box[1] - before.box[1] >= MIN_TOP_DROP * standing
    lower = after.box[3] - after.box[1] <= MAX_LYING_HEIGHT * standing
    return dropped and lower and _near(before, after, frame_w, frame_h)


def _near(before: Pose, after: Pose, frame_w: float, frame_h: float) -> bool:
    """Tell whether `after` is within one body height of where `before` stood."""
    feet_x = (before.box[0] + before.box[2]) / 2 * frame_w
    feet_y = before.box[3] * frame_h
    nearest_x = min(max(feet_x, after.box[0] * frame_w), after.box[2] * frame_w)
    nearest_y = min(max(feet_y, after.box[1] * frame_h), after.box[3] * frame_h)
    body = (before.box[3] - before.box[1]) * frame_h
    return math.hypot(feet_x - nearest_x, feet_y - nearest_y) <= body


class PoseEstimator:
    """MoveNet SinglePose on a square crop around a person box."""

    def __init__(self, models_dir: Path, num_threads: int = 1) -> None:
        self.model = Model(models_dir / MODEL_FILE, num_threads)

    def pose(self, image: np.ndarray, person: Box, when: float) -> Pose:
        """Estimate the posture of the person in `person`."""
        height, width = image.shape[:2]
        x0, y0, x1, y1 = to_pixels(person, width, height)
        side = max(x1 - x0, y1 - y0) * 1.15
        crop, _ = square_crop(image, (x0 + x1) / 2, (y0 + y1) / 2, side)
        tensor = resize(crop, self.model.width, self.model.height).astype(self.model.input_dtype)
        (keypoints,) = self.model.run(tensor[None])
        points = keypoints[0, 0]
        angle = torso_angle(points, side, side)
        legs = bool((points[list(LEGS), 2] >= KEYPOINT_GATE).any())
        return Pose(when, person, angle, (y1 - y0) / max(1.0, x1 - x0), legs)


class FallJudge:
    """Per-camera memory of postures; says when an upright person is lying soon after."""

    def __init__(self, window: float = 10.0) -> None:
        self.window = window
        self._history: deque[Pose] = deque()
        self._fallen: list[Pose] = []

    def judge(self, poses: list[Pose], frame_w: float, frame_h: float) -> list[Detection]:
        """Add this frame's poses; return a fall detection for each person down after a fall."""
        if not poses:
            return []
        now = max(p.time for p in poses)
        while self._history and now - self._history[0].time > self.window:
            self._history.popleft()
        falls: list[Detection] = []
        fallen: list[Pose] = []
        for pose in poses:
            if not pose.lying:
                continue
            was_down = any(_near(f, pose, frame_w, frame_h) for f in self._fallen)
            was_up = any(
                h.upright and h.time < pose.time and _fell(h, pose, frame_w, frame_h)
                for h in self._history
            )
            if was_down or was_up:
                fallen.append(pose)
                score = min(1.0, pose.angle / 90.0) if pose.angle is not None else 0.6
                falls.append(Detection(Kind.FALL, "fall", score, pose.box))
        self._fallen = fallen
        self._history.extend(poses)
        return falls
