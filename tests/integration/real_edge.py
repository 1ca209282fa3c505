"""A real edge process for the integration's tests (shared with tests/e2e)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.support import PYTHON, ServerProcess, free_port

CAMERA_ID = "hall"
CAMERA_NAME = "Hall"
EDGE_NAME = "Test edge"


@dataclass
class RealEdge:
    """Where the running edge listens and its API token."""

    port: int
    token: str
    process: ServerProcess


@contextmanager
def run_real_edge(tmp_path: Path, models_dir: Path, video_path: Path) -> Iterator[RealEdge]:
    """Run `python -m peerwatch_edge` with one file camera looping the fixture video.

    Blocking (waits for the health route): call it outside the event loop.
    """
    tmp_path.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = {
        "data_dir": str(tmp_path / "data"),
        "models_dir": str(models_dir),
        "api": {"host": "127.0.0.1", "port": port},
        "cameras": [
            {
                "id": CAMERA_ID,
                "name": CAMERA_NAME,
                "source": str(video_path),
                "fps": 5,
                "detect": ["object"],
                "end_after": 1,
                "motion": {"interval": 0.5},
            }
        ],
    }
    config_path = tmp_path / "edge.yaml"
    config_path.write_text(yaml.safe_dump(config))
    process = ServerProcess(
        [PYTHON, "-m", "peerwatch_edge", "--config", str(config_path)],
        port=port,
        log_path=tmp_path / "edge.log",
        health_url=f"http://127.0.0.1:{port}/api/v1/health",
        env={"PEERWATCH_NAME": EDGE_NAME},
    )
    process.start(timeout=60)
    try:
        token = (tmp_path / "data" / "api_token").read_text().strip()
        yield RealEdge(port=port, token=token, process=process)
    finally:
        assert process.stop() == 0, process.log()
        assert "Traceback" not in process.log(), process.log()
