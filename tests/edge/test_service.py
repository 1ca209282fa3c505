"""`python -m peerwatch_edge --config FILE` runs the cameras, logs events, stops on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from tests.support import PYTHON, REPO, free_port


def run_edge(config: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [PYTHON, "-m", "peerwatch_edge", "--config", str(config), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=REPO,
    )


@pytest.mark.slow
def test_runs_logs_events_and_stops_cleanly(
    tmp_path: Path, models_dir: Path, video_path: Path
) -> None:
    config = tmp_path / "edge.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "data_dir": "data",
                "models_dir": str(models_dir),
                "api": {"host": "127.0.0.1", "port": free_port()},
                "cameras": [{"id": "door", "source": str(video_path), "end_after": 1}],
            }
        )
    )
    proc = run_edge(config)
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        lines.append(line)
        if "event.start door person" in line or not line:
            break
    proc.send_signal(signal.SIGTERM)
    output, _ = proc.communicate(timeout=30)
    log = "".join(lines) + output
    assert proc.returncode == 0, log
    assert "camera door online" in log
    assert "event.start door person" in log
    assert "edge stopped" in log
    assert (tmp_path / "data" / "events.db").is_file()


def test_config_error_exits_with_message(tmp_path: Path) -> None:
    config = tmp_path / "edge.yaml"
    config.write_text("cameras:\n  - id: door\n    source: rtsp://h/s\n    fps: 0\n")
    proc = run_edge(config)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "cameras[door].fps: value must be at least 0.1" in output


def test_missing_models_exit_with_message(tmp_path: Path, video_path: Path) -> None:
    config = tmp_path / "edge.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "models_dir": "nowhere",
                "api": {"host": "127.0.0.1", "port": free_port()},
                "cameras": [{"id": "door", "source": str(video_path)}],
            }
        )
    )
    proc = run_edge(config)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert f"model error: model file not found: {tmp_path / 'nowhere'}" in output
