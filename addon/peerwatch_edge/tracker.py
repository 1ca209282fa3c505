"""IoU tracker: one event per tracked object, with start, updates and end, and its best frame."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import numpy as np

from .detectors import Detection
from .imaging import closeness
from .model import Event

type Change = tuple[Literal["start", "update", "end"], "Track"]

UPDATE_EVERY = 1.0
"""Seconds between `update` messages for a track whose best score did not improve."""


def new_event_id(when: datetime) -> str:
    """A unique id that sorts by creation time."""
    return f"{int(when.timestamp() * 1000):012x}{secrets.token_hex(5)}"


@dataclass(slots=True, frozen=True)
class Seen:
    """One analysed frame: the image, everything wanted in it, and when."""

    frame: np.ndarray
    detections: list[Detection]
    now: float
    wall: datetime


@dataclass(slots=True)
class Track:
    """An object followed across frames."""

    event: Event
    last_seen: float
    best_frame: np.ndarray
    best_detections: list[Detection]
    best_dirty: bool = True
    """The best frame changed since its snapshot was last written."""
    last_update: float = 0.0
    snapshot_at: float = 0.0
    hits: int = 1


class Tracker:
    """Match each frame's detections to live tracks of the same kind and label: by IoU, or failing
    that by a centre within one box diagonal of the track's last box."""

    def __init__(self, camera: str, end_after: float = 5.0, min_iou: float = 0.2) -> None:
        self.camera = camera
        self.end_after = end_after
        self.min_iou = min_iou
        self.tracks: list[Track] = []

    @property
    def busy(self) -> bool:
        """True while any track is live."""
        return bool(self.tracks)

    def update(
        self,
        detections: Sequence[tuple[Detection, Sequence[str]]],
        frame: np.ndarray,
        now: float,
        wall: datetime,
    ) -> list[Change]:
        """Feed one analysed frame (detections with their zones); return the track changes."""
        changes: list[Change] = []
        unmatched = list(self.tracks)
        seen = Seen(frame, [d for d, _ in detections], now, wall)
        for detection, zones in sorted(detections, key=lambda dz: -dz[0].score):
            candidates = [
                (closeness(t.event.box or detection.box, detection.box), t)
                for t in unmatched
                if t.event.kind == detection.kind and t.event.label == detection.label
            ]
            near, track = max(candidates, key=lambda c: c[0], default=((0.0, 0.0), None))
            if track is None or (near[0] < self.min_iou and near[1] < 0.0):
                track = self._start(detection, zones, seen)
                changes.append(("start", track))
                continue
            unmatched.remove(track)
            if self._follow(track, detection, zones, seen):
                changes.append(("update", track))
        return changes + self.expire(now, wall, unmatched)

    def expire(self, now: float, wall: datetime, tracks: list[Track] | None = None) -> list[Change]:
        """End the tracks (default: all) unseen for `end_after` seconds."""
        ended: list[Change] = []
        for track in list(self.tracks if tracks is None else tracks):
            if now - track.last_seen >= self.end_after:
                track.event.ended_at = wall - timedelta(seconds=now - track.last_seen)
                track.event.updated_at = track.event.ended_at
                self.tracks.remove(track)
                ended.append(("end", track))
        return ended

    def end_all(self, wall: datetime) -> list[Change]:
        """End every live track (camera stopping)."""
        ended: list[Change] = []
        for track in self.tracks:
            track.event.ended_at = wall
            track.event.updated_at = wall
            ended.append(("end", track))
        self.tracks = []
        return ended

    def _start(self, detection: Detection, zones: Sequence[str], seen: Seen) -> Track:
        event = Event(
            id=new_event_id(seen.wall),
            camera=self.camera,
            kind=detection.kind,
            label=detection.label,
            score=detection.score,
            started_at=seen.wall,
            updated_at=seen.wall,
            box=detection.box,
            zones=list(zones),
        )
        track = Track(event, seen.now, seen.frame, seen.detections, last_update=seen.now)
        self.tracks.append(track)
        return track

    def _follow(self, track: Track, detection: Detection, zones: Sequence[str], seen: Seen) -> bool:
        """Move a track to a new detection; True when an update should be published."""
        event = track.event
        track.last_seen = seen.now
        track.hits += 1
        event.box = detection.box
        event.updated_at = seen.wall
        new_zones = [z for z in zones if z not in event.zones]
        event.zones.extend(new_zones)
        better = detection.score > event.score
        if better:
            event.score = detection.score
            track.best_frame = seen.frame
            track.best_detections = seen.detections
            track.best_dirty = True
        if better or new_zones or seen.now - track.last_update >= UPDATE_EVERY:
            track.last_update = seen.now
            return True
        return False
