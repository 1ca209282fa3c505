"""A real edge process for the integration's tests (shared with tests/e2e)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support import EdgeProcess, camera_config, edge_config, start_edge

CAMERA_ID = "hall"
CAMERA_NAME = "Hall"
EDGE_NAME = "Test edge"


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
