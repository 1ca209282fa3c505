"""Durable file writes shared by the event store, camera settings and the device registry."""

from __future__ import annotations

import os
import tempfile
import threading
from collections import defaultdict
from pathlib import Path

_LOCKS: defaultdict[Path, threading.Lock] = defaultdict(threading.Lock)
_LOCKS_LOCK = threading.Lock()


def _lock(path: Path) -> threading.Lock:
    with _LOCKS_LOCK:
        return _LOCKS[path.absolute()]


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write `data` so the file is either the old or the new content, never a mix.

    Writes a temporary sibling (`<name>.<random>.tmp`), fsyncs it, renames it over `path`, then
    fsyncs the directory. Writes of one path in this process happen one at a time: a write whose
    asyncio caller was cancelled (its thread still runs) cannot race the next one.
    """
    with _lock(path):
        fd, name = tempfile.mkstemp(prefix=f"{path.name}.", suffix=".tmp", dir=path.parent)
        tmp = Path(name)
        try:
            os.fchmod(fd, mode)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            tmp.replace(path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
