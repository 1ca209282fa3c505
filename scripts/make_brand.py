"""Draw the integration's brand images (custom_components/peerwatch/brand/) with Pillow.

The mark is a camera eye: an almond eye on a rounded tile, its iris a lens with a highlight.
`icon.png` 256 px and `icon@2x.png` 512 px; `logo.png` (128 px high) and `logo@2x.png` (256 px)
add the wordmark; `dark_` variants for dark themes. Run: `.venv/bin/python scripts/make_brand.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFont

OUT = Path(__file__).resolve().parents[1] / "custom_components" / "peerwatch" / "brand"
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
SUPERSAMPLE = 4


@dataclass(frozen=True)
class Palette:
    """Colours of one theme variant."""

    tile: str
    eye: str
    lens: str
    pupil: str
    glint: str
    text: str


LIGHT = Palette("#1565c0", "#ffffff", "#1e88e5", "#0d2a4a", "#ffffff", "#1f2933")
DARK = Palette("#64b5f6", "#0f1a26", "#90caf9", "#0f1a26", "#e3f2fd", "#e6edf3")


def mark(size: int, colours: Palette) -> Image.Image:
    """The camera-eye mark, `size` pixels square, on a transparent background."""
    big = size * SUPERSAMPLE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=big * 0.22, fill=colours.tile)
    # The eye: two circular arcs meeting at the corners (their chords' intersection).
    cx, cy, half_width, half_height = big / 2, big / 2, big * 0.36, big * 0.22
    radius = (half_width**2 + half_height**2) / (2 * half_height)
    top = Image.new("L", (big, big), 0)
    bottom = Image.new("L", (big, big), 0)
    ImageDraw.Draw(top).ellipse(
        (cx - radius, cy - half_height, cx + radius, cy - half_height + 2 * radius), fill=255
    )
    ImageDraw.Draw(bottom).ellipse(
        (cx - radius, cy + half_height - 2 * radius, cx + radius, cy + half_height), fill=255
    )
    image.paste(colours.eye, mask=ImageChops.multiply(top, bottom))
    for scale, fill in ((0.17, colours.lens), (0.1, colours.pupil)):
        r = big * scale
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill)
    g, gx, gy = big * 0.035, cx + big * 0.05, cy - big * 0.05
    draw.ellipse((gx - g, gy - g, gx + g, gy + g), fill=colours.glint)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def logo(height: int, colours: Palette) -> Image.Image:
    """The mark with the wordmark beside it, `height` pixels high."""
    font = ImageFont.truetype(str(FONT), int(height * 0.5))
    gap = int(height * 0.22)
    left, top, right, bottom = font.getbbox("Peerwatch")
    width = height + gap + (right - left) + int(height * 0.06)
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    image.alpha_composite(mark(height, colours))
    text_y = (height - (bottom - top)) // 2 - top
    ImageDraw.Draw(image).text(
        (height + gap - left, text_y), "Peerwatch", font=font, fill=colours.text
    )
    return image


def main() -> None:
    """Write every brand image."""
    OUT.mkdir(parents=True, exist_ok=True)
    for prefix, colours in (("", LIGHT), ("dark_", DARK)):
        mark(256, colours).save(OUT / f"{prefix}icon.png", optimize=True)
        mark(512, colours).save(OUT / f"{prefix}icon@2x.png", optimize=True)
        logo(128, colours).save(OUT / f"{prefix}logo.png", optimize=True)
        logo(256, colours).save(OUT / f"{prefix}logo@2x.png", optimize=True)


if __name__ == "__main__":
    main()
