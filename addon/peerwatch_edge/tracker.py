"""Tracker: one event per object's visit, with start, updates and end, and its best frame.

A face is something seen on a person, not a visit of its own: with `attach_faces`, each face
joins the person track seen in the same frame whose box holds it, as that track's best face.

An object becomes an event once seen in `confirm` consecutive analysed frames, so one-frame
flickers never do. Detections follow live tracks of the same kind and label by IoU, or failing
that by a centre within one box diagonal of the track's last box. A detection still left over
then takes a track of its label not seen in this frame, wherever it was: a looping file's jump
or a short occlusion stays one visit. A track unseen for `end_after` seconds ends.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import numpy as np

from .detectors import Detection
from .imaging import area, closeness, holds
from .model import Event, Kind

type Change = tuple[Literal["start", "update", "end"], "Track"]

UPDATE_EVERY = 1.0
"""Seconds between `update` messages for a track whose best score did not improve."""


def new_event_id(when: datetime) -> str:
    """A unique id that sorts by creation time."""
    return f"{int(when.timestamp() * 1000):012x}{secrets.token_hex(5)}"


@dataclass(slots=True, frozen=True)
class Seen:
    """One analysed frame: its pixels and when it was taken."""

    frame: np.ndarray
    now: float
    """Monotonic seconds."""
    wall: datetime


@dataclass(slots=True)
class Track:
    """An object followed across frames."""

    event: Event
    last_seen: float
    best_frame: np.ndarray
    best: Detection
    """The best detection so far, in `best_frame`. The snapshot draws it, and the event takes
    its score when the snapshot is drawn, so the two always agree."""
    best_dirty: bool = True
    """The best frame changed since its snapshot was last written."""
    last_update: float = 0.0
    snapshot_at: float = 0.0
    first_seen: float = 0.0
    hits: int = 1
    confirmed: bool = False
    """Seen in enough consecutive frames to be an event (`start` was sent)."""
    face: Detection | None = None
    """The best face seen on this person, in `face_frame`."""
    face_frame: np.ndarray | None = None
    face_dirty: bool = False
    """The best face changed since its crop was last written."""


class Tracker:
    """Follows one camera's detections from frame to frame; see the module's docstring."""

    def __init__(
        self,
        camera: str,
        end_after: float = 5.0,
        confirm: int = 2,
        *,
        attach_faces: bool = False,
        min_iou: float = 0.2,
    ) -> None:
        self.camera = camera
        self.end_after = end_after
        self.confirm = confirm
        self.attach_faces = attach_faces
        self.min_iou = min_iou
        self.tracks: list[Track] = []

    @property
    def busy(self) -> bool:
        """True while any track is live or being confirmed."""
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
        seen = Seen(frame, now, wall)
        faces: list[Detection] = []
        if self.attach_faces:
            faces = [d for d, _ in detections if d.kind is Kind.FACE]
            detections = [(d, z) for d, z in detections if d.kind is not Kind.FACE]
        unmatched = list(self.tracks)
        left: list[tuple[Detection, Sequence[str]]] = []
        for detection, zones in sorted(detections, key=lambda dz: -dz[0].score):
            if (track := self._nearest(detection, unmatched)) is None:
                left.append((detection, zones))
                continue
            unmatched.remove(track)
            changes += self._follow(track, detection, zones, seen)
        for detection, zones in left:
            lost = [t for t in unmatched if t.confirmed and _same(t, detection)]
            if not lost:
                changes += self._begin(detection, zones, seen)
                continue
            track = max(lost, key=lambda t: t.last_seen)
            unmatched.remove(track)
            changes += self._follow(track, detection, zones, seen)
        for track in unmatched:
            if not track.confirmed:  # a flicker: gone before it was confirmed
                self.tracks.remove(track)
        for face in sorted(faces, key=lambda f: -f.score):
            changes += self._attach(face, seen, changes)
        return changes + self.expire(now, wall, [t for t in unmatched if t.confirmed])

    def expire(self, now: float, wall: datetime, tracks: list[Track] | None = None) -> list[Change]:
        """End the tracks (default: all) unseen for `end_after` seconds."""
        ended: list[Change] = []
        for track in list(self.tracks if tracks is None else tracks):
            if now - track.last_seen >= self.end_after:
                self.tracks.remove(track)
                if track.confirmed:
                    track.event.ended_at = wall - timedelta(seconds=now - track.last_seen)
                    track.event.updated_at = track.event.ended_at
                    ended.append(("end", track))
        return ended

    def end_all(self, wall: datetime) -> list[Change]:
        """End every live track (camera stopping)."""
        ended: list[Change] = []
        for track in self.tracks:
            if track.confirmed:
                track.event.ended_at = wall
                track.event.updated_at = wall
                ended.append(("end", track))
        self.tracks = []
        return ended

    def _attach(self, face: Detection, seen: Seen, changes: list[Change]) -> list[Change]:
        """Give a face to the tightest person box seen in this frame that holds it; an update
        when it is the person's first face and nothing else announces the track yet."""
        people = [
            t
            for t in self.tracks
            if t.last_seen == seen.now
            and t.event.kind is Kind.OBJECT
            and t.event.label == "person"
            and t.event.box is not None
            and holds(t.event.box, face.box)
        ]
        if not people:
            return []
        track = min(people, key=lambda t: area(t.event.box or face.box))
        first = track.face is None
        if track.face is not None and face.score <= track.face.score:
            return []
        track.face, track.face_frame, track.face_dirty = face, seen.frame, True
        if first and track.confirmed and not any(t is track for _, t in changes):
            return [("update", track)]
        return []

    def _nearest(self, detection: Detection, tracks: list[Track]) -> Track | None:
        """The track this detection continues: the closest of its kind and label, if close."""
        candidates = [
            (closeness(t.event.box or detection.box, detection.box), t)
            for t in tracks
            if _same(t, detection)
        ]
        near, track = max(candidates, key=lambda c: c[0], default=((0.0, 0.0), None))
        if track is None or (near[0] < self.min_iou and near[1] < 0.0):
            return None
        return track

    def _begin(self, detection: Detection, zones: Sequence[str], seen: Seen) -> list[Change]:
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
        track = Track(
            event, seen.now, seen.frame, detection, last_update=seen.now, first_seen=seen.now
        )
        self.tracks.append(track)
        return self._confirm(track)

    def _confirm(self, track: Track) -> list[Change]:
        """A fall is reported once, already judged over many frames: it is an event at once."""
        if track.hits < self.confirm and track.event.kind is not Kind.FALL:
            return []
        track.confirmed = True
        track.event.score = track.best.score
        return [("start", track)]

    def _follow(
        self, track: Track, detection: Detection, zones: Sequence[str], seen: Seen
    ) -> list[Change]:
        """Move a track to a new detection; return the change to publish, if any."""
        event = track.event
        track.last_seen = seen.now
        track.hits += 1
        event.box = detection.box
        event.updated_at = seen.wall
        new_zones = [z for z in zones if z not in event.zones]
        event.zones.extend(new_zones)
        better = detection.score > track.best.score
        if better:
            track.best_frame, track.best = seen.frame, detection
            track.best_dirty = True
        if not track.confirmed:
            return self._confirm(track)
        if better or new_zones or seen.now - track.last_update >= UPDATE_EVERY:
            track.last_update = seen.now
            return [("update", track)]
        return []


def _same(track: Track, detection: Detection) -> bool:
    return track.event.kind == detection.kind and track.event.label == detection.label
