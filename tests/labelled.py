"""Ambianic's labelled cases on the fixture images, and variants of them that stand in for other
cameras (mirrored, rolled a little, farther away): shared by the quality tests and benchmark."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
from PIL import Image, ImageFilter

from peerwatch_edge.cli import load_image

VARIANTS: Final = ("", "mirror", "roll+10", "roll-10", "far")
"""How a case's images are changed: as taken; mirrored left-right; the camera rolled by ±10°;
the camera farther (the frame shrunk to 3/4 in a grey border)."""


def variant(image: np.ndarray, how: str) -> np.ndarray:
    """An image changed as `how` (one of VARIANTS, or "blur": badly motion-blurred)."""
    if how == "mirror":
        return np.ascontiguousarray(image[:, ::-1])
    if how.startswith("roll"):
        rolled = Image.fromarray(image).rotate(float(how[4:]), Image.Resampling.BILINEAR)
        return np.asarray(rolled)
    if how == "far":
        height, width = image.shape[:2]
        small = Image.fromarray(image).resize((width * 3 // 4, height * 3 // 4))
        canvas = Image.new("RGB", (width, height), (128, 128, 128))
        canvas.paste(small, (width // 8, height // 8))
        return np.asarray(canvas)
    if how == "blur":
        return np.asarray(Image.fromarray(image).filter(ImageFilter.BoxBlur(40)))
    return image


def frame(images_dir: Path, name: str, how: str = "") -> np.ndarray:
    """A fixture image, `name` with an optional ":how" of its own (e.g. "fall_img_2.png:blur"),
    changed as `how` too."""
    file, _, own = name.partition(":")
    return variant(variant(load_image(images_dir / file), own), how)


def noisy(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """`image` with a camera's sensor noise (the object model's box jitters a little)."""
    noise = rng.integers(-4, 5, image.shape, dtype=np.int16)
    return np.clip(image.astype(np.int16) + noise, 0, 255).astype(np.uint8)


@dataclass(frozen=True, slots=True)
class FallCase:
    """Frames of one camera, 1 s apart, and on which of them a fall is truly shown first."""

    name: str
    frames: tuple[str, ...]
    falls: tuple[int, ...]
    """Indices of the frames where a fall must be reported (once per fall)."""
    ambianic: str = ""
    """What Ambianic's own tests expect ("fall", "no fall"; "" if not among them)."""


def fall_img(*numbers: int | str) -> tuple[str, ...]:
    """The frames `fall_img_N.png` (a str number may carry ":how")."""
    names = []
    for n in numbers:
        number, _, how = str(n).partition(":")
        names.append(f"fall_img_{number}.png" + (f":{how}" if how else ""))
    return tuple(names)


FALL_CASES: Final = (
    FallCase("standing → going down", fall_img(1, 2), (1,), "fall"),
    FallCase("standing → standing elsewhere", fall_img(1, 4), (), "no fall"),
    FallCase("down → getting up", fall_img(2, 1), (), "no fall"),
    FallCase("standing → nobody (another room)", fall_img(5, 6), (), "no fall"),
    FallCase("empty room", ("background.jpg", "background.jpg"), (), "no fall"),
    FallCase("standing → lying", fall_img(1, 3), (1,), "no fall (its model found no pose)"),
    FallCase("standing → going down → lying", fall_img(1, 2, 3), (1,)),
    FallCase("standing → blurred mid-fall → lying", fall_img(1, "2:blur", 3), (2,)),
    FallCase("standing → standing → standing elsewhere", fall_img(1, 1, 4), ()),
    FallCase("lying, never seen standing", fall_img(3, 3), ()),
)
"""Every labelled fall sequence (each also played in every variant)."""

PERSON_IMAGES: Final = {
    "person.jpg": True,
    "person-couch.jpg": True,
    "person_thermal_bw.jpg": True,
    "person-face.jpg": True,
    "person-no-face.jpg": True,
    "fall_img_1.png": True,
    "fall_img_2.png": True,
    "fall_img_3.png": True,
    "fall_img_4.png": True,
    "fall_img_5.png": True,
    "fall_img_6.png": False,
    "background.jpg": False,
}
"""Whether a person is in each fixture image (fall_img_3: lying on the floor)."""

FACE_IMAGES: Final = {
    "person-face.jpg": True,
    "person-no-face.jpg": False,
    "fall_img_6.png": False,
    "background.jpg": False,
}
"""Whether a face is visible, where the fixtures say so."""
