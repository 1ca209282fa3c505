"""Fixtures for the PWA's tests: the built app, real Chromium, real registrars and edges."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, expect

from tests.browser import chromium, chromium_profile
from tests.pwa.stack import PHONE, SRC, build_pwa, registrar_process, start_pwa_edge
from tests.support import PYTHON, EdgeProcess, ServerProcess, free_port


@pytest.fixture(scope="session", autouse=True)
def patient_expect() -> None:
    """`expect()` waits up to 20 s: Playwright's 5 s is short on a loaded 2-core CI machine."""
    expect.set_options(timeout=20_000)


@pytest.fixture(scope="session")
def pwa_dist() -> Path:
    """The built PWA (pwa/dist)."""
    return build_pwa()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Headless Debian Chromium, closed after the test."""
    async with chromium() as browser:
        yield browser


@pytest.fixture
async def profile_context(tmp_path: Path) -> AsyncIterator[BrowserContext]:
    """Chromium with a real (non-incognito) profile at phone size, as an installing user has."""
    async with chromium_profile(tmp_path / "profile", viewport=PHONE, device_scale_factor=2) as ctx:
        yield ctx


@pytest.fixture
def stopper() -> Iterator[list[ServerProcess]]:
    """Servers to stop (newest first) after the test."""
    servers: list[ServerProcess] = []
    yield servers
    for server in reversed(servers):
        server.stop()


@pytest.fixture
def registrar_factory(
    stopper: list[ServerProcess], tmp_path: Path, pwa_dist: Path
) -> Callable[..., ServerProcess]:
    """Start real registrars serving the built PWA; `start(port=…)` reuses a port (restarts)."""

    def start(port: int | None = None, name: str = "registrar") -> ServerProcess:
        server = registrar_process(port or free_port(), tmp_path / f"{name}.log", pwa_dist)
        stopper.append(server)
        return server.start()

    return start


@pytest.fixture
def edge_factory(
    stopper: list[ServerProcess], tmp_path: Path, pwa_dist: Path
) -> Callable[..., EdgeProcess]:
    """Start a real edge on the fixture video (blocking: use asyncio.to_thread in async tests)."""
    assert pwa_dist.is_dir()

    def start(
        registrar: str | None = None,
        name: str = "edge",
        seed: int = 0,
        ice_servers: list[dict[str, Any]] | None = None,
    ) -> EdgeProcess:
        edge = start_pwa_edge(tmp_path, name, registrar, seed, ice_servers)
        stopper.append(edge.server)
        return edge

    return start


@pytest.fixture
def src_server(start_server: Callable[..., ServerProcess]) -> str:
    """The PWA's ES module sources over plain HTTP on loopback (a secure context for WebCrypto)."""
    port = free_port()
    argv = [PYTHON, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(SRC), str(port)]
    start_server(argv, port=port, name="src-http")
    return f"http://127.0.0.1:{port}"
