"""A real edge process for the integration's tests (shared with tests/e2e)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from homeassistant.core import HomeAssistant

from tests.support import EdgeProcess, camera_config, edge_config, start_edge

CAMERA_ID = "hall"
CAMERA_NAME = "Hall"
EDGE_NAME = "Test edge"
WAIT = 120.0
"""Seconds a real-edge test waits for something the edge should do (a loaded CI machine)."""


@contextmanager
def run_real_edge(tmp_path: Path) -> Iterator[EdgeProcess]:
    """Run `python -m peerwatch_edge` with one file camera looping the fixture video.

    Blocking (waits for the health route): call it outside the event loop.
    """
    camera = camera_config(
        CAMERA_ID, name=CAMERA_NAME, detect=["object"], end_after=1, motion={"interval": 0.5}
    )
    edge = start_edge(
        edge_config(tmp_path / "data", camera), tmp_path, env={"PEERWATCH_NAME": EDGE_NAME}
    )
    try:
        yield edge
    finally:
        edge.stop()


async def until(hass: HomeAssistant, check: Callable[[], bool]) -> None:
    """Wait (in real time, at most WAIT seconds) until `check()` is true."""
    async with asyncio.timeout(WAIT):
        while not check():
            await asyncio.sleep(0.2)
            await hass.async_block_till_done()
