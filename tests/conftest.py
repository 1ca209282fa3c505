"""Fixtures shared by every part's tests: real models, real footage, real servers."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support import IMAGES_DIR, MODELS_DIR, VIDEO_PATH, ServerProcess, free_port


@pytest.fixture(scope="session")
def models_dir() -> Path:
    """The real TFLite models in ../shared/models."""
    assert (MODELS_DIR / "ssd_mobilenet_v1_coco_quant.tflite").is_file(), MODELS_DIR
    return MODELS_DIR


@pytest.fixture(scope="session")
def images_dir() -> Path:
    """The real camera images in ../shared/fixtures/images."""
    assert IMAGES_DIR.is_dir(), IMAGES_DIR
    return IMAGES_DIR


@pytest.fixture(scope="session")
def video_path() -> Path:
    """The real camera clip ../shared/fixtures/video/test2-cam-person1.mkv."""
    assert VIDEO_PATH.is_file(), VIDEO_PATH
    return VIDEO_PATH


def require_program(name: str) -> str:
    """Return the path of a program the test needs; fail (not skip) when it is missing."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: run `make setup` (scripts/setup.sh installs it)")
    return path


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Start real servers on 127.0.0.1 for one test and stop them all afterwards."""
    started: list[ServerProcess] = []

    def start(argv: list[str], *, port: int, name: str, **kwargs: object) -> ServerProcess:
        server = ServerProcess(argv, port=port, log_path=tmp_path / f"{name}.log", **kwargs)  # type: ignore[arg-type]
        started.append(server)
        return server.start()

    yield start
    for server in reversed(started):
        server.stop()


@pytest.fixture
def redis_url(start_server: Callable[..., ServerProcess], tmp_path: Path) -> str:
    """A real Redis server (Debian redis-server) on a free loopback port, without persistence."""
    port = free_port()
    argv = [
        require_program("redis-server"),
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(tmp_path),
    ]
    start_server(argv, port=port, name="redis")
    return f"redis://127.0.0.1:{port}/0"
