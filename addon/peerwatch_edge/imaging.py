"""Boxes and pixels: the geometry and image helpers that sources, detectors and the tracker share.

Boxes are `model.Box`: (xmin, ymin, xmax, ymax) normalised to 0..1 of the frame. Images are RGB
numpy arrays (H, W, 3) uint8.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from .model import Box


class Picture:
    """A decoded frame: RGB pixels, and scaled copies made as cheaply as its source can (a
    source may override `scaled`, e.g. PyAV frames scale with FFmpeg's swscale, ~5x faster)."""

    def __init__(self, image: np.ndarray) -> None:
        self.image = image

    def scaled(self, width: int, height: int) -> np.ndarray:
        """The frame resized to width x height, RGB."""
        return resize(self.image, width, height)


def resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize an RGB image (area averaging when shrinking a lot)."""
    if image.shape[1] == width and image.shape[0] == height:
        return image
    shrink = image.shape[1] >= 2 * width and image.shape[0] >= 2 * height
    method = Image.Resampling.BOX if shrink else Image.Resampling.BILINEAR
    return np.asarray(Image.fromarray(image).resize((width, height), method))


def square_crop(
    image: np.ndarray, cx: float, cy: float, side: float
) -> tuple[np.ndarray, tuple[float, float, float]]:
    """Crop a square of `side` pixels centred on (cx, cy), padding outside the image with black.

    Returns the crop and (x0, y0, side) in image pixels to map results back.
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


def to_pixels(box: Box, width: float, height: float) -> tuple[float, float, float, float]:
    """A normalised box in pixels of a width x height image."""
    return (box[0] * width, box[1] * height, box[2] * width, box[3] * height)


def clip_box(box: tuple[float, float, float, float]) -> Box:
    """Clamp a box to the frame."""
    xmin, ymin, xmax, ymax = (min(1.0, max(0.0, float(v))) for v in box)
    return (xmin, ymin, xmax, ymax)


def area(box: Box) -> float:
    """A box's area as a fraction of the frame."""
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def holds(box: Box, inner: Box) -> bool:
    """Whether `inner`'s centre lies in `box`."""
    x, y = (inner[0] + inner[2]) / 2, (inner[1] + inner[3]) / 2
    return box[0] <= x <= box[2] and box[1] <= y <= box[3]


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = area(a) + area(b) - inter
    return inter / union if union > 0 else 0.0


def closeness(old: Box, new: Box) -> tuple[float, float]:
    """(IoU, 1 - centre distance / old box diagonal): small fast boxes such as faces at a few
    frames per second often do not overlap their last position but are still close to it."""
    diagonal = math.hypot(old[2] - old[0], old[3] - old[1]) or 1e-6
    dx = (old[0] + old[2] - new[0] - new[2]) / 2
    dy = (old[1] + old[3] - new[1] - new[3]) / 2
    return iou(old, new), 1.0 - math.hypot(dx, dy) / diagonal
