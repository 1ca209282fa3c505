"""Fixtures for the PWA's tests: the built app, real Chromium, real registrar processes."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, async_playwright

from tests.support import PYTHON, REPO, ServerProcess, free_port

PWA = REPO / "pwa"
SRC = PWA / "src"
DIST = PWA / "dist"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}


def build_pwa() -> Path:
    """Build pwa/dist with `npm run build` when it is missing or older than its sources."""
    inputs = [*SRC.rglob("*"), PWA / "build.mjs", PWA / "icon.mjs", PWA / "package-lock.json"]
    newest = max(p.stat().st_mtime for p in inputs if p.is_file())
    stamp = DIST / "index.html"
    if not stamp.is_file() or stamp.stat().st_mtime < newest:
        subprocess.run(["npm", "run", "build", "--silent"], cwd=PWA, check=True, timeout=120)
    return DIST


@pytest.fixture(scope="session")
def pwa_dist() -> Path:
    """The built PWA (pwa/dist)."""
    return build_pwa()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Headless Debian Chromium, closed after the test."""
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def profile_context(tmp_path: Path) -> AsyncIterator[BrowserContext]:
    """Chromium with a real (non-incognito) profile at phone size, as an installing user has."""
    async with async_playwright() as pw:
        context = await pw.chromium.launch_persistent_context(
            tmp_path / "profile",
            executable_path="/usr/bin/chromium",
            args=CHROMIUM_ARGS,
            viewport=PHONE,
            device_scale_factor=2,
        )
        try:
            yield context
        finally:
            await context.close()


@pytest.fixture
def registrar_factory(
    start_server: Callable[..., ServerProcess], pwa_dist: Path
) -> Callable[..., ServerProcess]:
    """Start real registrars serving the built PWA; `start(port=…)` reuses a port (restarts)."""

    def start(port: int | None = None, name: str = "registrar") -> ServerProcess:
        port = port or free_port()
        argv = [PYTHON, "-m", "peerwatch_registrar", "--host", "127.0.0.1", "--port", str(port)]
        argv += ["--static", str(pwa_dist)]
        return start_server(
            argv, port=port, name=name, health_url=f"http://127.0.0.1:{port}/health"
        )

    return start


@pytest.fixture
def src_server(start_server: Callable[..., ServerProcess]) -> str:
    """The PWA's ES module sources over plain HTTP on loopback (a secure context for WebCrypto)."""
    port = free_port()
    argv = [PYTHON, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(SRC), str(port)]
    start_server(argv, port=port, name="src-http")
    return f"http://127.0.0.1:{port}"
