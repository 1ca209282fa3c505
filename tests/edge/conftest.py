"""Fixtures of the edge's tests."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A 256 KiB tmpfs when we may mount one (root); else a 150 KB RLIMIT_FSIZE for the writer,
    which makes writes past it fail with EFBIG as a full disk fails them with ENOSPC."""
    mount = tmp_path / "small"
    mount.mkdir()
    mounted = os.geteuid() == 0 and (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)],
            capture_output=True,
            check=False,
        ).returncode
        == 0
    )
    try:
        yield mount / "data", 0 if mounted else 150_000
    finally:
        if mounted:
            with contextlib.suppress(OSError):
                subprocess.run(["umount", "--lazy", str(mount)], check=True)
