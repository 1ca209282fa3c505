"""The edge facade: cameras, detectors, event store and bus, started and stopped together.

Others (the local API, the remote peer, the service) use only this public surface:

- `Edge(config, bus=None)`; attributes `config`, `bus`, `store`, `data_dir`, `cameras` (by id,
  in config order); `await edge.start()`, `await edge.stop()`; `edge.stats()`;
  `await edge.settled(event_id, clip=…)` (waits while a new event's snapshot is being drawn, or
  with `clip` its clip opened).
- `Camera`: `id`, `name`, `status()`, `detection_enabled` (settable, persisted, publishes
  `camera.status`), `latest_jpeg()` (blocking: use `asyncio.to_thread`), `subscribe_frames()`.
- `EventStore`: `list_events(...)`, `get_event(id)`, `delete_event(id)`, `snapshot_path(id)`,
  `thumbnail_path(id)`.
"""

from __future__ import annotations

import asyncio
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path
from typing import Any, Final

from . import __version__
from .bus import EventBus
from .camera import Camera, Outlets
from .config import EdgeConfig
from .detectors import Detectors, Models
from .settings import CameraSettings
from .store import EventStore

_LOGGER = logging.getLogger(__name__)

RETENTION_EVERY: Final = 3600.0


class Edge:
    """Everything the edge does with cameras, as one object."""

    def __init__(self, config: EdgeConfig, bus: EventBus | None = None) -> None:
        self.config = config
        self.bus = bus or EventBus()
        self.data_dir: Path = config.data_dir
        self.store = EventStore(self.data_dir, config.retention)
        self.executor = ThreadPoolExecutor(
            max(2, os.cpu_count() or 2), thread_name_prefix="edge-worker"
        )
        self.models: Models | None = None
        self.settings = CameraSettings(self.data_dir)
        outlets = Outlets(self.store, self.bus, self.executor)
        self.cameras: dict[str, Camera] = {
            camera.id: Camera(
                camera,
                outlets,
                detection_enabled=self.settings.detection_enabled(camera.id),
                on_setting=self._save_settings,
            )
            for camera in config.cameras
        }
        self._retention: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Open the store, load the models (ModelError if missing), start every camera."""
        loop = asyncio.get_running_loop()
        self.bus.bind(loop)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        await self.store.open()
        kinds = {kind for camera in self.config.cameras for kind in camera.detect}
        if self.cameras:
            self.models = await loop.run_in_executor(
                self.executor, Models, self.config.models_dir, kinds
            )
        for camera in self.cameras.values():
            assert self.models is not None
            await camera.start(Detectors(self.models, camera.config.detect))
        self._retention = asyncio.create_task(self._keep_retention(), name="retention")
        _LOGGER.info("edge started with %d cameras", len(self.cameras))

    async def stop(self) -> None:
        """Stop every camera (ending live events), then close the store."""
        if self._retention is not None:
            self._retention.cancel()
            with suppress(asyncio.CancelledError):
                await self._retention
        await asyncio.gather(*(camera.stop() for camera in self.cameras.values()))
        await self.store.close()
        await asyncio.to_thread(self.settings.close)
        self.executor.shutdown(wait=True, cancel_futures=True)
        _LOGGER.info("edge stopped")

    async def settled(self, event_id: str, *, clip: bool = False) -> None:
        """Return once a new event's first snapshot is drawn, or with `clip` its clip file
        opened (at once when nothing is under way)."""
        for camera in self.cameras.values():
            await (camera.events.opening if clip else camera.events.drawing).wait(event_id)

    def stats(self) -> dict[str, Any]:
        """Figures for /metrics and diagnostics: per camera and per detector."""
        models = self.models.all() if self.models is not None else {}
        detectors = {}
        for name, model in models.items():
            count, ms = model.usage()
            detectors[name] = {"invocations": count, "inference_ms": round(ms, 2)}
        return {
            "version": __version__,
            "cameras": {camera_id: cam.stats() for camera_id, cam in self.cameras.items()},
            "detectors": detectors,
            "store": {"write_errors": self.store.write_errors},
        }

    async def _keep_retention(self) -> None:
        while True:
            try:
                await self.store.enforce_retention()
            except Exception:
                _LOGGER.exception("retention failed")
            await asyncio.sleep(RETENTION_EVERY)

    def _save_settings(self, _camera: Camera) -> None:
        """Persist every camera's privacy switch."""
        self.settings.save({cid: cam.detection_enabled for cid, cam in self.cameras.items()})
