"""The event store: SQLite WAL rows plus snapshot files; paging, retention, full disk, kill -9."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import signal
import sqlite3
import subprocess
import textwrap
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from peerwatch_edge.config import RetentionConfig
from peerwatch_edge.model import Event, Kind
from peerwatch_edge.store import EventStore
from tests.support import PYTHON, REPO


def event(n: int, when: datetime, camera: str = "door", label: str = "person") -> Event:
    return Event(
        id=f"ev{n:04d}",
        camera=camera,
        kind=Kind.OBJECT,
        label=label,
        score=0.7,
        started_at=when,
        updated_at=when,
        box=(0.1, 0.2, 0.3, 0.4),
        zones=["porch"],
    )


def jpeg(size: int = 64, *, noisy: bool = False) -> bytes:
    buffer = io.BytesIO()
    image = (
        Image.frombytes("RGB", (size, size), os.urandom(size * size * 3))
        if noisy
        else Image.new("RGB", (size, size), (200, 10, 10))
    )
    image.save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.fixture
async def store(tmp_path: Path) -> EventStore:
    store = EventStore(tmp_path / "data")
    await store.open()
    yield store
    await store.close()


async def test_save_get_update_delete(store: EventStore) -> None:
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    first = event(1, now)
    assert await store.save(first)
    first.score, first.ended_at = 0.9, now + timedelta(seconds=3)
    first.zones.append("drive")
    assert await store.save(first, (jpeg(), jpeg(16)))
    assert not first.has_snapshot  # the store never changes the event it is given
    got = await store.get_event("ev0001")
    assert got == replace(first, has_snapshot=True)
    assert store.snapshot_path("ev0001").read_bytes() == jpeg()
    assert store.thumbnail_path("ev0001").read_bytes() == jpeg(16)
    assert await store.delete_event("ev0001")
    assert await store.get_event("ev0001") is None
    assert not store.snapshot_path("ev0001").exists()
    assert not store.thumbnail_path("ev0001").exists()
    assert not await store.delete_event("ev0001")
    assert not await store.delete_event("../../etc/passwd")
    with pytest.raises(ValueError, match="invalid event id"):
        store.snapshot_path("../x")


async def test_queries_and_stable_paging(store: EventStore) -> None:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(10):
        when = base + timedelta(seconds=n // 2)  # pairs share a start time
        await store.save(event(n, when, camera="door" if n % 3 else "yard"))
    everything = await store.list_events(limit=100)
    assert [e.id for e in everything] == [f"ev{n:04d}" for n in range(9, -1, -1)]
    pages: list[str] = []
    cursor: Event | None = None
    while True:
        page = await store.list_events(
            limit=3,
            before=cursor.started_at if cursor else None,
            before_id=cursor.id if cursor else None,
        )
        if not page:
            break
        pages += [e.id for e in page]
        cursor = page[-1]
    assert pages == [e.id for e in everything]
    yard = await store.list_events(camera="yard")
    assert [e.id for e in yard] == ["ev0009", "ev0006", "ev0003", "ev0000"]
    assert await store.list_events(label="car") == []
    assert len(await store.list_events(kind="object", limit=4)) == 4
    older = await store.list_events(before=base + timedelta(seconds=1))
    assert [e.id for e in older] == ["ev0001", "ev0000"]


async def test_retention_by_days_and_size(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "data", RetentionConfig(days=7, max_gb=0.0001))  # ~107 KB
    await store.open()
    try:
        now = datetime.now(UTC)
        await store.save(event(1, now - timedelta(days=8)), (jpeg(), jpeg(16)))
        big = jpeg(200, noisy=True)  # about 28 KB
        for n in range(2, 8):
            await store.save(event(n, now - timedelta(minutes=10 - n)), (big, jpeg(16)))
        removed = await store.enforce_retention(now)
        left = [e.id for e in await store.list_events()]
        assert removed >= 2
        assert "ev0001" not in left  # too old
        assert "ev0007" in left  # newest kept
        assert left == sorted(left, reverse=True)
        size = sum(store.snapshot_path(i).stat().st_size for i in left)
        assert size <= store.retention.max_bytes
        assert not store.snapshot_path("ev0001").exists()
    finally:
        await store.close()


async def test_reopen_repairs_rows_whose_files_vanished(tmp_path: Path) -> None:
    store = EventStore(tmp_path)
    await store.open()
    await store.save(event(1, datetime.now(UTC)), (jpeg(), jpeg(16)))
    await store.close()
    store.snapshot_path("ev0001").unlink()
    (store.snapshots_dir / "ev0002.jpg.tmp").write_bytes(b"half")
    store = EventStore(tmp_path)
    await store.open()
    got = await store.get_event("ev0001")
    assert got is not None
    assert not got.has_snapshot
    assert not (store.snapshots_dir / "ev0002.jpg.tmp").exists()
    await store.close()


WRITER = textwrap.dedent(
    """
    import asyncio, io, os, random, resource, signal, sys
    from datetime import UTC, datetime
    from PIL import Image
    from peerwatch_edge.model import Event, Kind
    from peerwatch_edge.store import EventStore

    limit = int(sys.argv[2])
    if limit:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    def noise(size):
        buf = io.BytesIO()
        Image.frombytes("RGB", (size, size), os.urandom(size * size * 3)).save(buf, "JPEG")
        return buf.getvalue()

    async def main():
        store = EventStore(__import__("pathlib").Path(sys.argv[1]))
        await store.open()
        n = 0
        while n < int(sys.argv[3]):
            now = datetime.now(UTC)
            ev = Event(f"ev{n:05d}", "door", Kind.OBJECT, "person", 0.8, now, now)
            ok = await store.save(ev)
            ok = await store.save(ev, (noise(120), noise(24))) and ok
            print(("ok " if ok else "failed ") + ev.id, flush=True)
            n += 1
        print("count", await store.count(), flush=True)
        await store.close()

    asyncio.run(main())
    """
)


def check_consistent(data: Path) -> list[tuple[str, int]]:
    """The DB passes its integrity check and every has_snapshot row has its files."""
    with contextlib.closing(sqlite3.connect(data / "events.db")) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = db.execute("SELECT id, has_snapshot FROM events").fetchall()
    for event_id, has_snapshot in rows:
        if has_snapshot:
            for suffix in (".jpg", ".thumb.jpg"):
                with Image.open(data / "snapshots" / f"{event_id}{suffix}") as image:
                    image.load()
    return rows


@pytest.mark.slow
def test_full_disk_is_a_clear_error_and_keeps_data(small_disk: tuple[Path, int]) -> None:
    data, limit = small_disk
    result = subprocess.run(
        [PYTHON, "-c", WRITER, str(data), str(limit), "40"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("ok ")
    assert any(line.startswith("failed ") for line in lines)
    assert "event not stored" in result.stderr
    if not limit:  # a real full filesystem
        assert "disk full, event not stored" in result.stderr
    assert lines[-1].startswith("count ")
    rows = check_consistent(data)
    stored = {event_id for event_id, _ in rows}
    assert {line.split()[1] for line in lines if line.startswith("ok ")} <= stored


@pytest.mark.slow
def test_kill_9_during_writes_leaves_a_consistent_store(tmp_path: Path) -> None:
    data = tmp_path / "data"
    proc = subprocess.Popen(
        [PYTHON, "-c", WRITER, str(data), "0", "100000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert proc.stdout is not None
    seen = 0
    deadline = time.monotonic() + 60
    while seen < 15 and time.monotonic() < deadline:
        if proc.stdout.readline().startswith("ok "):
            seen += 1
    time.sleep(0.05)  # the point: killed while it keeps writing
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert seen == 15
    rows = check_consistent(data)
    assert len(rows) >= 15
    assert json.dumps(rows)  # every row is readable

    async def reopen() -> list[Event]:
        store = EventStore(data)
        await store.open()
        events = await store.list_events(limit=1000)
        await store.close()
        return events

    events = asyncio.run(reopen())
    assert len(events) == len(rows)
    assert all(event.ended_at == event.updated_at for event in events)  # none left "now"
