"""Camera settings the owner changes at run time (the privacy switch), kept across restarts.

`data_dir/cameras.json`: `{camera_id: {"detection_enabled": bool}}`. Writes are durable
(`write_atomic`) and run in order on the writer's own thread, so a switch never waits for the
disk; a write that fails is logged and the switch still holds until the next restart.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Final

from .files import write_atomic

_LOGGER = logging.getLogger(__name__)

SETTINGS_FILE: Final = "cameras.json"


class CameraSettings:
    """Reads the saved settings once; writes every change on a thread of its own."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / SETTINGS_FILE
        self._saved = self._read()
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="camera-settings")

    def detection_enabled(self, camera_id: str) -> bool:
        """The camera's saved privacy switch (on when never saved)."""
        value = self._saved.get(camera_id, {})
        enabled = value.get("detection_enabled", True) if isinstance(value, dict) else True
        return enabled if isinstance(enabled, bool) else True

    def save(self, detection_enabled: dict[str, bool]) -> None:
        """Write every camera's switch (any thread; returns before the write is done)."""
        data = {cid: {"detection_enabled": on} for cid, on in detection_enabled.items()}
        payload = json.dumps(data, indent=1).encode()
        try:
            self._writer.submit(self._write, payload)
        except RuntimeError:  # closed: write here
            self._write(payload)

    def close(self) -> None:
        """Wait for the writes in flight."""
        self._writer.shutdown(wait=True)

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as err:
            _LOGGER.warning("ignoring unreadable %s: %s", self.path, err)
            return {}
        return data if isinstance(data, dict) else {}

    def _write(self, payload: bytes) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, payload)
        except OSError as err:
            _LOGGER.error("cannot save camera settings to %s: %s", self.path, err)
