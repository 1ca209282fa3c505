"""The edge's data model: what an event and a camera status are, as stored and as sent."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

type Box = tuple[float, float, float, float]
"""A box as (xmin, ymin, xmax, ymax), normalised to 0..1 of the frame."""


class Kind(StrEnum):
    """What kind of detector made an event."""

    OBJECT = "object"
    FACE = "face"
    FALL = "fall"


def utcnow() -> datetime:
    """Return the current time, timezone-aware UTC."""
    return datetime.now(UTC)


def iso(when: datetime | None) -> str | None:
    """Format a time as UTC ISO-8601 (or None)."""
    return None if when is None else when.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(slots=True, frozen=True)
class Face:
    """The best face seen on a person during their visit."""

    score: float
    box: Box
    has_image: bool = False
    """Its crop is stored (`/events/{id}/face.jpg`)."""


@dataclass(slots=True)
class Event:
    """One tracked detection: a person walking through is one event, not one per frame."""

    id: str
    camera: str
    kind: Kind
    label: str
    score: float
    started_at: datetime
    updated_at: datetime
    ended_at: datetime | None = None
    box: Box | None = None
    zones: list[str] = field(default_factory=list)
    has_snapshot: bool = False
    face: Face | None = None
    """On a person: the best face seen on them, None while no face was seen."""
    has_clip: bool = False
    """A clip of the event can be fetched (`/events/{id}/clip.mp4`), maybe still recording."""
    clip_duration: float | None = None
    """The clip's length in seconds once complete (None while recording, or without a clip)."""

    def to_dict(self) -> dict[str, Any]:
        """Return the event as the API sends it (DESIGN.md, Edge local API)."""
        data = asdict(self)
        data["kind"] = str(self.kind)
        data["box"] = list(self.box) if self.box is not None else None
        if self.face is not None:
            data["face"]["box"] = list(self.face.box)
        for key in ("started_at", "updated_at", "ended_at"):
            data[key] = iso(getattr(self, key))
        return data


@dataclass(slots=True)
class CameraStatus:
    """What others may read about a camera's health."""

    id: str
    name: str
    online: bool = False
    detection_enabled: bool = True
    last_frame_at: datetime | None = None
    fps: float = 0.0
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the status as the API sends it."""
        data = asdict(self)
        data["last_frame_at"] = iso(self.last_frame_at)
        return data
