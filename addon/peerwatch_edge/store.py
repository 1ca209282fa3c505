"""Event store: SQLite (WAL) rows plus JPEG snapshot, thumbnail and face files and MP4 clips,
with retention.

Crash safety: picture files are written first (temporary file, fsync, rename), and only then
does the row claim them (`has_snapshot`, `has_face_image`); so after a kill -9 a row never
claims files that do not exist.
A full disk is logged as a clear error; the database stays intact and the service goes on.
All SQLite and file work runs on one worker thread; the public API is async.
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from .clips import clip_duration
from .config import RetentionConfig
from .files import write_atomic
from .model import Event, Face, Kind

_LOGGER = logging.getLogger(__name__)

SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY,
    camera TEXT NOT NULL,
    kind TEXT NOT NULL,
    label TEXT NOT NULL,
    score REAL NOT NULL,
    started_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    ended_at REAL,
    box TEXT,
    zones TEXT NOT NULL DEFAULT '[]',
    has_snapshot INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS events_time ON events (started_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS events_camera ON events (camera, started_at DESC);
"""
ADDED_COLUMNS: Final = {
    "face_score": "REAL",
    "face_box": "TEXT",
    "has_face_image": "INTEGER NOT NULL DEFAULT 0",
    "has_clip": "INTEGER NOT NULL DEFAULT 0",
    "clip_duration": "REAL",
}
"""Columns newer than the first schema, added to older databases when opened."""
COLUMNS: Final = (
    "id, camera, kind, label, score, started_at, updated_at, ended_at, box, zones, has_snapshot, "
    "face_score, face_box, has_face_image, has_clip, clip_duration"
)


class StoreError(Exception):
    """The store could not write (e.g. the disk is full); what was stored is intact."""


def _ts(when: datetime | None) -> float | None:
    return None if when is None else when.timestamp()


def _dt(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def _event(row: tuple[Any, ...]) -> Event:
    return Event(
        id=row[0],
        camera=row[1],
        kind=Kind(row[2]),
        label=row[3],
        score=row[4],
        started_at=_dt(row[5]),  # type: ignore[arg-type]
        updated_at=_dt(row[6]),  # type: ignore[arg-type]
        ended_at=_dt(row[7]),
        box=tuple(json.loads(row[8])) if row[8] else None,  # type: ignore[arg-type]
        zones=json.loads(row[9]),
        has_snapshot=bool(row[10]),
        face=None if row[11] is None else _face(row[11], row[12], row[13]),
        has_clip=bool(row[14]),
        clip_duration=row[15],
    )


def _face(score: float, box: str, has_image: int) -> Face:
    return Face(score, tuple(json.loads(box)), bool(has_image))  # type: ignore[arg-type]


def _disk_message(err: Exception) -> str:
    if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        return f"disk full, event not stored: {err.strerror}: {err.filename}"
    if isinstance(err, sqlite3.Error) and "full" in str(err):
        return f"disk full, event not stored: {err}"
    return f"event store write failed, event not stored: {err}"


class EventStore:
    """Events in `data_dir/events.db`, pictures in `data_dir/snapshots/`, clips in
    `data_dir/clips/`."""

    def __init__(self, data_dir: Path, retention: RetentionConfig | None = None) -> None:
        self.data_dir = data_dir
        self.db_path = data_dir / "events.db"
        self.snapshots_dir = data_dir / "snapshots"
        self.clips_dir = data_dir / "clips"
        self.retention = retention or RetentionConfig()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="event-store")
        self._db: sqlite3.Connection | None = None
        self.write_errors = 0

    # --- lifecycle -------------------------------------------------------------------------

    async def open(self) -> None:
        """Create folders and the schema, and clean up after a crash: temporary files go,
        rows claiming missing snapshots stop claiming them, open events end at their last
        update."""
        await self._call(self._open)

    async def close(self) -> None:
        """Close the database and the worker thread."""
        await self._call(self._close)
        self._executor.shutdown(wait=True)

    def _open(self) -> None:
        self.snapshots_dir.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.db_path, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(SCHEMA)
        present = {row[1] for row in db.execute("PRAGMA table_info(events)")}
        for column, declaration in ADDED_COLUMNS.items():
            if column not in present:
                db.execute(f"ALTER TABLE events ADD COLUMN {column} {declaration}")
        self._db = db
        for tmp in self.snapshots_dir.glob("*.tmp"):
            tmp.unlink(missing_ok=True)
        # A row may claim a snapshot whose files were deleted by hand: believe the disk.
        missing = [
            event_id
            for (event_id,) in db.execute("SELECT id FROM events WHERE has_snapshot = 1")
            if not self.snapshot_path(event_id).is_file()
            or not self.thumbnail_path(event_id).is_file()
        ]
        for event_id in missing:
            db.execute("UPDATE events SET has_snapshot = 0 WHERE id = ?", (event_id,))
        for (event_id,) in db.execute("SELECT id FROM events WHERE has_face_image = 1").fetchall():
            if not self.face_path(event_id).is_file():
                db.execute("UPDATE events SET has_face_image = 0 WHERE id = ?", (event_id,))
        self._recover_clips(db)
        # Nothing is live before the cameras start: events a crash left open end where last seen.
        ended = db.execute(
            "UPDATE events SET ended_at = updated_at WHERE ended_at IS NULL"
        ).rowcount
        if ended:
            _LOGGER.info("ended %d events left open by an unclean stop", ended)

    def _recover_clips(self, db: sqlite3.Connection) -> None:
        """Clips cut by a crash play up to their last fragment: record how long they really
        are; forget clips whose file is gone or unreadable."""
        self.clips_dir.mkdir(parents=True, exist_ok=True)
        rows = db.execute("SELECT id, clip_duration FROM events WHERE has_clip = 1").fetchall()
        for event_id, known in rows:
            path = self.clip_path(event_id)
            if known is not None and path.is_file():
                continue
            duration = clip_duration(path) if path.is_file() else None
            if duration is None:
                path.unlink(missing_ok=True)
            db.execute(
                "UPDATE events SET has_clip = ?, clip_duration = ? WHERE id = ?",
                (int(duration is not None), duration, event_id),
            )

    def _close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    async def _call[T](self, func: Callable[..., T], *args: Any) -> T:  # noqa: ANN401
        return await asyncio.get_running_loop().run_in_executor(self._executor, func, *args)

    @property
    def db(self) -> sqlite3.Connection:
        """The open connection (worker thread only)."""
        if self._db is None:
            msg = "event store is not open"
            raise StoreError(msg)
        return self._db

    # --- paths -----------------------------------------------------------------------------

    def snapshot_path(self, event_id: str) -> Path:
        """The best frame of an event, with boxes and labels drawn."""
        return self.snapshots_dir / f"{_safe(event_id)}.jpg"

    def thumbnail_path(self, event_id: str) -> Path:
        """A small version of the snapshot."""
        return self.snapshots_dir / f"{_safe(event_id)}.thumb.jpg"

    def face_path(self, event_id: str) -> Path:
        """A crop of the best face seen on the event's person."""
        return self.snapshots_dir / f"{_safe(event_id)}.face.jpg"

    def clip_path(self, event_id: str) -> Path:
        """The event's clip (fragmented MP4)."""
        return self.clips_dir / f"{_safe(event_id)}.mp4"

    def _paths(self, event_id: str) -> tuple[Path, ...]:
        return (
            self.snapshot_path(event_id),
            self.thumbnail_path(event_id),
            self.face_path(event_id),
            self.clip_path(event_id),
        )

    def _size(self, event_id: str) -> int:
        return sum(path.stat().st_size for path in self._paths(event_id) if path.is_file())

    # --- writes ----------------------------------------------------------------------------

    async def save(
        self,
        event: Event,
        snapshot: tuple[bytes, bytes] | None = None,
        face: bytes | None = None,
    ) -> bool:
        """Insert or update an event; with (snapshot JPEG, thumbnail JPEG) and a face crop JPEG,
        write those files first.

        The event is not changed: pass a copy of one that others change. Returns False (and
        logs why) when it could not be stored, e.g. on a full disk.
        """
        try:
            await self._call(self._save, event, snapshot, face)
        except (OSError, sqlite3.Error, StoreError) as err:
            self.write_errors += 1
            _LOGGER.error("camera %s: %s", event.camera, _disk_message(err))
            return False
        return True

    def _save(self, event: Event, snapshot: tuple[bytes, bytes] | None, face: bytes | None) -> None:
        wrote_snapshot = wrote_face = False
        failed: OSError | None = None
        try:
            if snapshot is not None:
                write_atomic(self.snapshot_path(event.id), snapshot[0])
                write_atomic(self.thumbnail_path(event.id), snapshot[1])
                wrote_snapshot = True
            if face is not None:
                write_atomic(self.face_path(event.id), face)
                wrote_face = True
        except OSError as err:
            failed = err  # still store the row, without claiming what was not written
        size = self._size(event.id)
        self.db.execute(
            f"INSERT INTO events ({COLUMNS}, bytes) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) "  # noqa: S608
            "ON CONFLICT(id) DO UPDATE SET score=excluded.score, updated_at=excluded.updated_at, "
            "ended_at=excluded.ended_at, box=excluded.box, zones=excluded.zones, "
            "has_snapshot=MAX(has_snapshot, excluded.has_snapshot), "
            "face_score=excluded.face_score, face_box=excluded.face_box, "
            "has_face_image=MAX(has_face_image, excluded.has_face_image), "
            "has_clip=MAX(has_clip, excluded.has_clip), "
            "clip_duration=COALESCE(excluded.clip_duration, clip_duration), bytes=excluded.bytes",
            (
                event.id,
                event.camera,
                str(event.kind),
                event.label,
                event.score,
                _ts(event.started_at),
                _ts(event.updated_at),
                _ts(event.ended_at),
                json.dumps(list(event.box)) if event.box else None,
                json.dumps(event.zones),
                int(event.has_snapshot or wrote_snapshot),
                event.face.score if event.face else None,
                json.dumps(list(event.face.box)) if event.face else None,
                int(bool(event.face and event.face.has_image) or wrote_face),
                int(event.has_clip),
                event.clip_duration,
                size,
            ),
        )
        if failed is not None:
            raise failed

    async def set_clip(self, event_id: str, duration: float | None) -> None:
        """Record that an event's clip is complete with its `duration` (None: not playable after
        all, no clip)."""
        try:
            await self._call(self._set_clip, event_id, duration)
        except (OSError, sqlite3.Error, StoreError) as err:
            self.write_errors += 1
            _LOGGER.error("event %s: clip not recorded in the store: %s", event_id, err)

    def _set_clip(self, event_id: str, duration: float | None) -> None:
        self.db.execute(
            "UPDATE events SET has_clip = ?, clip_duration = ?, bytes = ? WHERE id = ?",
            (int(duration is not None), duration, self._size(event_id), event_id),
        )

    async def delete_event(self, event_id: str) -> bool:
        """Remove an event's row and files; False if there was no such event."""
        if not _valid(event_id):
            return False
        return await self._call(self._delete, [event_id]) > 0

    def _delete(self, event_ids: list[str]) -> int:
        deleted = 0
        for event_id in event_ids:
            # Row first: a crash in between leaves orphan files (harmless), never a dangling row.
            deleted += self.db.execute("DELETE FROM events WHERE id = ?", (event_id,)).rowcount
            for path in self._paths(event_id):
                path.unlink(missing_ok=True)
        return deleted

    async def enforce_retention(self, now: datetime | None = None) -> int:
        """Delete events older than the retention days, then the oldest over the size cap."""
        return await self._call(self._retention, now or datetime.now(UTC))

    def _retention(self, now: datetime) -> int:
        cutoff = (now - timedelta(days=self.retention.days)).timestamp()
        old = [
            r[0] for r in self.db.execute("SELECT id FROM events WHERE started_at < ?", (cutoff,))
        ]
        removed = self._delete(old)
        total = self.db.execute("SELECT COALESCE(SUM(bytes), 0) FROM events").fetchone()[0]
        total += self.db_path.stat().st_size if self.db_path.exists() else 0
        if total > self.retention.max_bytes:
            victims = []
            for event_id, size in self.db.execute(
                "SELECT id, bytes FROM events ORDER BY started_at ASC, id ASC"
            ):
                if total <= self.retention.max_bytes:
                    break
                victims.append(event_id)
                total -= size
            removed += self._delete(victims)
        if removed:
            _LOGGER.info("retention removed %d events", removed)
        return removed

    # --- queries ---------------------------------------------------------------------------

    async def list_events(
        self,
        *,
        camera: str | None = None,
        label: str | None = None,
        kind: str | None = None,
        before: datetime | None = None,
        before_id: str | None = None,
        limit: int = 50,
    ) -> list[Event]:
        """Events newest first. Page with `before` = the last event's `started_at` and, to be
        stable on equal times, `before_id` = its id."""
        clauses: list[str] = []
        params: list[Any] = []
        for column, value in (("camera", camera), ("label", label), ("kind", kind)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(str(value))
        if before is not None:
            if before_id is None:
                clauses.append("started_at < ?")
                params.append(before.timestamp())
            else:
                clauses.append("(started_at < ? OR (started_at = ? AND id < ?))")
                params += [before.timestamp(), before.timestamp(), before_id]
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = (
            f"SELECT {COLUMNS} FROM events {where} "  # noqa: S608
            "ORDER BY started_at DESC, id DESC LIMIT ?"
        )
        params.append(max(0, min(int(limit), 1000)))
        rows = await self._call(lambda: self.db.execute(sql, params).fetchall())
        return [_event(row) for row in rows]

    async def get_event(self, event_id: str) -> Event | None:
        """One event by id, or None."""
        sql = f"SELECT {COLUMNS} FROM events WHERE id = ?"  # noqa: S608
        row = await self._call(lambda: self.db.execute(sql, (event_id,)).fetchone())
        return None if row is None else _event(row)

    async def count(self) -> int:
        """How many events are stored."""
        return int(
            await self._call(lambda: self.db.execute("SELECT COUNT(*) FROM events").fetchone()[0])
        )


def _valid(event_id: str) -> bool:
    return (
        bool(event_id) and len(event_id) <= 64 and all(c.isalnum() or c in "-_" for c in event_id)
    )


def _safe(event_id: str) -> str:
    """Refuse ids that could escape the snapshots folder (ValueError)."""
    if not _valid(event_id):
        msg = f"invalid event id: {event_id!r}"
        raise ValueError(msg)
    return event_id
