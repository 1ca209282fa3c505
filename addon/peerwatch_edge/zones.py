"""Zones: named polygons in normalised coordinates; a box is in a zone when its foot point is."""

from __future__ import annotations

from .config import Point
from .model import Box


def inside(point: Point, polygon: tuple[Point, ...]) -> bool:
    """Ray-casting point-in-polygon test."""
    x, y = point
    result = False
    j = len(polygon) - 1
    for i, (xi, yi) in enumerate(polygon):
        xj, yj = polygon[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            result = not result
        j = i
    return result


def zones_of(box: Box, zones: dict[str, tuple[Point, ...]]) -> list[str]:
    """Names of the zones holding the box's bottom-centre (where a person stands)."""
    foot = ((box[0] + box[2]) / 2, box[3])
    return [name for name, polygon in zones.items() if inside(foot, polygon)]
