"""What every detector returns, and the helpers they share."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ..model import Box, Kind
from .interpreter import load_interpreter


@dataclass(slots=True, frozen=True)
class Detection:
    """One thing found in one frame."""

    kind: Kind
    label: str
    score: float
    box: Box

    def to_dict(self) -> dict[str, Any]:
        """Return the detection as the `detect` command prints it."""
        return {
            "kind": str(self.kind),
            "label": self.label,
            "score": round(self.score, 4),
            "box": [round(v, 4) for v in self.box],
        }


class Model:
    """A TFLite interpreter safe to call from any thread (one call at a time)."""

    def __init__(self, path: Path, num_threads: int = 1) -> None:
        self.path = path
        self.num_threads = num_threads
        self._interpreter = load_interpreter(path, num_threads)
        (self._input,) = self._interpreter.get_input_details()
        self._outputs = self._interpreter.get_output_details()
        self._lock = threading.Lock()
        _, self.height, self.width, _ = (int(v) for v in self._input["shape"])
        self.invocations = 0
        self.seconds = 0.0

    @property
    def input_dtype(self) -> Any:  # noqa: ANN401
        """The numpy dtype the model wants."""
        return self._input["dtype"]

    def run(self, tensor: np.ndarray) -> list[np.ndarray]:
        """Invoke the model on one input batch; return copies of all outputs."""
        with self._lock:
            start = time.perf_counter()
            self._interpreter.set_tensor(self._input["index"], tensor)
            self._interpreter.invoke()
            outputs = [self._interpreter.get_tensor(o["index"]).copy() for o in self._outputs]
            self.seconds += time.perf_counter() - start
            self.invocations += 1
        return outputs

    @property
    def mean_ms(self) -> float:
        """Mean inference time in milliseconds."""
        return 1000.0 * self.seconds / self.invocations if self.invocations else 0.0


def resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize an RGB frame to the model's input size (area averaging when shrinking a lot)."""
    if image.shape[1] == width and image.shape[0] == height:
        return image
    shrink = image.shape[1] >= 2 * width and image.shape[0] >= 2 * height
    method = Image.Resampling.BOX if shrink else Image.Resampling.BILINEAR
    return np.asarray(Image.fromarray(image).resize((width, height), method))


def square_crop(
    image: np.ndarray, cx: float, cy: float, side: float
) -> tuple[np.ndarray, tuple[float, float, float]]:
    """Crop a square of `side` pixels centred on (cx, cy), padding outside the frame with black.

    Returns the crop and (x0, y0, side) in frame pixels to map results back.
    """
    height, width = image.shape[:2]
    side_px = max(2, round(side))
    x0, y0 = round(cx - side_px / 2), round(cy - side_px / 2)
    crop = np.zeros((side_px, side_px, 3), dtype=np.uint8)
    sx0, sy0 = max(0, x0), max(0, y0)
    sx1, sy1 = min(width, x0 + side_px), min(height, y0 + side_px)
    if sx1 > sx0 and sy1 > sy0:
        crop[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = image[sy0:sy1, sx0:sx1]
    return crop, (float(x0), float(y0), float(side_px))


def clip_box(box: tuple[float, float, float, float]) -> Box:
    """Clamp a box to the frame."""
    xmin, ymin, xmax, ymax = (min(1.0, max(0.0, float(v))) for v in box)
    return (xmin, ymin, xmax, ymax)


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0
