"""Event snapshots: the best frame with boxes and labels drawn, and a thumbnail, as JPEG."""

from __future__ import annotations

import io
from typing import Final

import numpy as np
from PIL import Image, ImageDraw

from .detectors import Detection
from .model import Kind

COLOURS: Final = {Kind.OBJECT: (255, 196, 0), Kind.FACE: (0, 200, 255), Kind.FALL: (255, 40, 40)}
THUMB_SIZE: Final = (320, 320)


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
