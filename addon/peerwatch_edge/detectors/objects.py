"""COCO objects with SSD MobileNet v1 (quantised, with the TFLite detection post-process)."""

from __future__ import annotations

from pathlib import Path
from typing import Final

import numpy as np

from ..imaging import Picture, clip_box
from ..model import Kind
from .base import Detection, Model
from .interpreter import ModelError

MODEL_FILE: Final = "ssd_mobilenet_v1_coco_quant.tflite"
LABELS_FILE: Final = "coco_labels.txt"


def read_labels(path: Path) -> list[str]:
    """Read the label map: line 0 is `???`, so class id `c` is line `c + 1`."""
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except OSError as err:
        msg = f"label map not found: {path}"
        raise ModelError(msg) from err


class ObjectDetector:
    """Find COCO objects in a whole frame."""

    def __init__(self, models_dir: Path, num_threads: int = 1) -> None:
        self.model = Model(models_dir / MODEL_FILE, num_threads)
        self.labels = read_labels(models_dir / LABELS_FILE)

    def label(self, class_id: int) -> str:
        """Return the label of a model class id."""
        index = class_id + 1
        return self.labels[index] if 0 <= index < len(self.labels) else f"class{class_id}"

    def prepare(self, picture: Picture) -> np.ndarray:
        """The model's input batch for a frame, scaled as cheaply as the picture can."""
        pixels = picture.scaled(self.model.width, self.model.height)
        return pixels.astype(self.model.input_dtype, copy=False)[None]

    def detect(
        self, image: np.ndarray, min_score: float = 0.3, tensor: np.ndarray | None = None
    ) -> list[Detection]:
        """Return every object scoring at least `min_score` (boxes normalised to the frame);
        `tensor` is `prepare(image)` when already done."""
        boxes, classes, scores, count = self.model.run(
            self.prepare(Picture(image)) if tensor is None else tensor
        )
        found = []
        for i in range(int(count[0])):
            score = float(scores[0][i])
            if score < min_score:
                continue
            ymin, xmin, ymax, xmax = boxes[0][i]
            found.append(
                Detection(
                    Kind.OBJECT,
                    self.label(int(classes[0][i])),
                    score,
                    clip_box((xmin, ymin, xmax, ymax)),
                )
            )
        return found
