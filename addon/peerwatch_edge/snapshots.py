"""Event pictures as JPEG: the best frame with its box and score drawn, a thumbnail, and a
crop of the best face seen on a person."""

from __future__ import annotations

import io
from typing import Final

import numpy as np
from PIL import Image, ImageDraw

from .detectors import Detection
from .imaging import square_crop, to_pixels
from .model import Box, Kind

COLOURS: Final = {Kind.OBJECT: (255, 196, 0), Kind.FACE: (0, 200, 255), Kind.FALL: (255, 40, 40)}
THUMB_SIZE: Final = (320, 320)
FACE_SIZE: Final = 192
FACE_MARGIN: Final = 1.6
"""The face crop's side, as a multiple of the face box's larger side."""


def encode_jpeg(image: Image.Image, quality: int = 85) -> bytes:
    """Encode a Pillow image as JPEG bytes."""
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def render(frame: np.ndarray, detections: list[Detection]) -> tuple[bytes, bytes]:
    """Draw the detections on the frame; return (snapshot JPEG, thumbnail JPEG)."""
    image = Image.fromarray(frame)
    draw = ImageDraw.Draw(image)
    width, height = image.size
    line = max(2, width // 320)
    for detection in detections:
        colour = COLOURS[detection.kind]
        x0, y0, x1, y1 = detection.box
        box = (x0 * width, y0 * height, x1 * width, y1 * height)
        draw.rectangle(box, outline=colour, width=line)
        text = f"{detection.label} {detection.score:.0%}"
        left, top, right, bottom = draw.textbbox((box[0], box[1]), text)
        top_y = max(0.0, box[1] - (bottom - top) - 2 * line)
        draw.rectangle((box[0], top_y, box[0] + right - left + 2 * line, box[1]), fill=colour)
        draw.text((box[0] + line, top_y + line // 2), text, fill=(0, 0, 0))
    snapshot = encode_jpeg(image)
    image.thumbnail(THUMB_SIZE)
    return snapshot, encode_jpeg(image, 75)


def face_crop(frame: np.ndarray, box: Box) -> bytes:
    """A square crop around a face box, with some margin, at most FACE_SIZE pixels a side."""
    height, width = frame.shape[:2]
    x0, y0, x1, y1 = to_pixels(box, width, height)
    crop, _ = square_crop(frame, (x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0) * FACE_MARGIN)
    image = Image.fromarray(crop)
    image.thumbnail((FACE_SIZE, FACE_SIZE))
    return encode_jpeg(image)
