"""DeviceRegistry: persistence across restarts, atomic writes, pairing window rules."""

from __future__ import annotations

import contextlib
import json
import stat
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from peerwatch_edge.devices import (
    FILE_NAME,
    KEY_BYTES,
    DeviceRegistry,
    PairingError,
)
from peerwatch_edge.model import utcnow


class Clock:
    """A settable clock, so window expiry is tested without sleeping."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


async def test_pairing_creates_a_device_that_survives_a_restart(tmp_path: Path) -> None:
    registry = DeviceRegistry(tmp_path)
    window = registry.start_pairing()
    assert len(window.code) == 6
    assert window.code.isdigit()
    assert registry.pairing_window() == window
    device = await registry.complete_pairing("Alice's phone")
    assert len(device.key) == KEY_BYTES
    assert "key" not in device.to_dict()
    assert registry.pairing_window() is None, "the code is single-use"
    with pytest.raises(PairingError):
        await registry.complete_pairing("second")
    await registry.touch(device.id)

    again = DeviceRegistry(tmp_path)
    loaded = again.get(device.id)
    assert loaded is not None
    assert loaded.key == device.key
    assert loaded.name == "Alice's phone"
    assert loaded.last_seen is not None
    assert [d.id for d in again.list()] == [device.id]
    mode = stat.S_IMODE((tmp_path / FILE_NAME).stat().st_mode)
    assert mode == 0o600


async def test_revoke_is_persisted(tmp_path: Path) -> None:
    registry = DeviceRegistry(tmp_path)
    registry.start_pairing()
    first = await registry.complete_pairing("one")
    registry.start_pairing()
    second = await registry.complete_pairing("two")
    assert await registry.revoke(first.id)
    assert not await registry.revoke(first.id)
    assert registry.get(first.id) is None
    assert [d.id for d in DeviceRegistry(tmp_path).list()] == [second.id]


async def test_window_expires_and_closes_after_five_wrong_codes(tmp_path: Path) -> None:
    clock = Clock()
    registry = DeviceRegistry(tmp_path, clock=clock)
    registry.start_pairing()
    clock.now += timedelta(seconds=301)
    assert registry.pairing_window() is None
    with pytest.raises(PairingError):
        await registry.complete_pairing("late")

    registry.start_pairing()
    assert [registry.record_failed_attempt() for _ in range(5)] == [4, 3, 2, 1, 0]
    assert registry.pairing_window() is None
    assert registry.record_failed_attempt() == 0
    with pytest.raises(PairingError):
        await registry.complete_pairing("too many")


@pytest.mark.parametrize("name", ["", "   ", "x" * 65, "bad\nname", None])
async def test_bad_device_name_is_refused_and_keeps_the_window(
    tmp_path: Path, name: object
) -> None:
    registry = DeviceRegistry(tmp_path)
    registry.start_pairing()
    with pytest.raises(ValueError, match="device name"):
        await registry.complete_pairing(name)  # type: ignore[arg-type]
    assert registry.pairing_window() is not None
    assert registry.list() == []


async def test_failed_write_keeps_file_and_memory(small_disk: tuple[Path, int]) -> None:
    data, limit = small_disk
    if limit:
        pytest.skip("needs a small tmpfs (root may mount one)")
    data.mkdir()
    registry = DeviceRegistry(data)
    registry.start_pairing()
    device = await registry.complete_pairing("kept")
    before = (data / FILE_NAME).read_bytes()
    with (data / "filler").open("wb") as filler, contextlib.suppress(OSError):
        while True:  # until the disk is full
            filler.write(b"x" * 4096)
            filler.flush()
    with pytest.raises(OSError, match="No space left"):
        await registry.revoke(device.id)
    assert registry.get(device.id) is not None
    assert (data / FILE_NAME).read_bytes() == before
    assert sorted(p.name for p in data.iterdir()) == [FILE_NAME, "filler"]


def test_corrupt_file_is_moved_aside_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).write_text("{not json")
    registry = DeviceRegistry(tmp_path)
    assert registry.list() == []
    aside = list(tmp_path.glob(FILE_NAME + ".corrupt-*"))
    assert len(aside) == 1
    assert aside[0].read_text() == "{not json"


def test_file_format_is_plain_json(tmp_path: Path) -> None:
    key = "A" * 43 + "="
    (tmp_path / FILE_NAME).write_text(
        json.dumps(
            {
                "version": 1,
                "devices": [
                    {"id": "d1", "name": "n", "key": key, "created_at": "2026-01-01T00:00:00Z"}
                ],
            }
        )
    )
    device = DeviceRegistry(tmp_path).get("d1")
    assert device is not None
    assert len(device.key) == KEY_BYTES
    assert device.last_seen is None
