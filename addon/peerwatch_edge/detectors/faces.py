"""Faces with BlazeFace short range: anchor decoding, sigmoid scores, non-maximum suppression.

The short-range model wants a face filling much of its 128x128 input, so faces are searched in a
square crop of the upper part of each person box rather than in the whole frame.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import numpy as np

from ..imaging import clip_box, iou, resize, square_crop, to_pixels
from ..model import Box, Kind
from .base import Detection, Model

MODEL_FILE: Final = "face_detection_short_range.tflite"
# MediaPipe's SSD anchor options for the short-range model: strides 8, 16, 16, 16 on a 128 input,
# two anchors per cell per layer, unit-size anchors centred on each cell.
STRIDES: Final = (8, 16, 16, 16)
ANCHORS_PER_LAYER: Final = 2


def make_anchors(size: int = 128) -> np.ndarray:
    """Return the 896 anchor centres (x, y), normalised, in the model's output order."""
    anchors: list[tuple[float, float]] = []
    layer = 0
    while layer < len(STRIDES):
        stride = STRIDES[layer]
        repeats = 0
        while layer < len(STRIDES) and STRIDES[layer] == stride:
            repeats += ANCHORS_PER_LAYER
            layer += 1
        cells = size // stride
        for y in range(cells):
            for x in range(cells):
                anchors.extend([((x + 0.5) / cells, (y + 0.5) / cells)] * repeats)
    return np.asarray(anchors, dtype=np.float32)


def nms(boxes: list[Box], scores: list[float], threshold: float) -> list[int]:
    """Return the indices kept by greedy non-maximum suppression, best first."""
    kept: list[int] = []
    for i in sorted(range(len(boxes)), key=lambda k: -scores[k]):
        if all(iou(boxes[i], boxes[j]) < threshold for j in kept):
            kept.append(i)
    return kept


class FaceDetector:
    """Find faces in square crops, mapped back to frame coordinates."""

    def __init__(
        self, models_dir: Path, num_threads: int = 1, min_score: float = 0.6, nms_iou: float = 0.3
    ) -> None:
        self.model = Model(models_dir / MODEL_FILE, num_threads)
        self.anchors = make_anchors(self.model.width)
        self.min_score = min_score
        self.nms_iou = nms_iou

    def detect_square(self, crop: np.ndarray) -> list[tuple[Box, float]]:
        """Return faces in a square RGB image as (box normalised to the crop, score)."""
        size = self.model.width
        tensor = resize(crop, size, size).astype(np.float32) / 127.5 - 1.0
        outputs = self.model.run(tensor[None])
        regressors, logits = sorted(outputs, key=lambda o: -o.shape[-1])
        raw_scores = 1.0 / (1.0 + np.exp(-np.clip(logits[0, :, 0], -80.0, 80.0)))
        candidates = np.nonzero(raw_scores >= self.min_score)[0]
        boxes: list[Box] = []
        scores: list[float] = []
        for i in candidates:
            dx, dy, w, h = regressors[0, i, :4] / size
            cx, cy = self.anchors[i, 0] + dx, self.anchors[i, 1] + dy
            boxes.append(clip_box((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)))
            scores.append(float(raw_scores[i]))
        return [(boxes[i], scores[i]) for i in nms(boxes, scores, self.nms_iou)]

    def detect_in_person(self, image: np.ndarray, person: Box) -> list[Detection]:
        """Search the head region of a person box: a square on its upper part, with a margin."""
        height, width = image.shape[:2]
        x0, y0, x1, y1 = to_pixels(person, width, height)
        side = min(x1 - x0, y1 - y0) * 1.2
        crop, (cx0, cy0, s) = square_crop(image, (x0 + x1) / 2, y0 + side / 2 - 0.1 * side, side)
        found = []
        for box, score in self.detect_square(crop):
            frame_box = clip_box(
                (
                    (cx0 + box[0] * s) / width,
                    (cy0 + box[1] * s) / height,
                    (cx0 + box[2] * s) / width,
                    (cy0 + box[3] * s) / height,
                )
            )
            found.append(Detection(Kind.FACE, "face", score, frame_box))
        return found
