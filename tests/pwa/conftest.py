"""Fixtures for the PWA's tests: the built app, real Chromium, real registrar processes."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import time
import urllib.request
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from PIL import Image
from playwright.async_api import Browser, BrowserContext, async_playwright

from peerwatch_edge.model import Event, Kind
from peerwatch_edge.store import EventStore
from tests.support import IMAGES_DIR, MODELS_DIR, PYTHON, REPO, VIDEO_PATH, ServerProcess, free_port

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


class Edge:
    """A real edge process on loopback: file camera, real models, local API (+ ingress site)."""

    def __init__(self, server: ServerProcess, api_port: int, ingress_port: int, data_dir: Path):
        self.server = server
        self.api = f"http://127.0.0.1:{api_port}/api/v1"
        self.ingress = f"http://127.0.0.1:{ingress_port}/"
        self.data_dir = data_dir

    @property
    def token(self) -> str:
        """The API bearer token the edge keeps in its data dir."""
        return (self.data_dir / "api_token").read_text().strip()

    def call(self, method: str, path: str) -> Any:
        """Call the token-protected local API; return the parsed JSON answer."""
        req = urllib.request.Request(  # noqa: S310
            self.api + path, method=method, headers={"Authorization": f"Bearer {self.token}"}
        )
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310
            return json.loads(resp.read() or b"null")

    def wait_for_event(self, label: str = "person", timeout: float = 60.0) -> dict[str, Any]:
        """Block until the edge stored an event with `label` and its snapshot."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            events = self.call("GET", f"/events?label={label}&limit=5")["events"]
            done = [e for e in events if e["has_snapshot"]]
            if done:
                return done[0]
            time.sleep(0.5)
        msg = f"no {label} event after {timeout}s:\n{self.server.log()[-3000:]}"
        raise TimeoutError(msg)


def seed_events(data_dir: Path, images_dir: Path, count: int) -> None:
    """Store `count` past person events (yesterday, a minute apart) with real pictures, through
    the edge's own EventStore, before the edge starts (a history to scroll through)."""

    async def seed() -> None:
        store = EventStore(data_dir)
        await store.open()
        try:
            picture = Image.open(images_dir / "person-no-face.jpg").convert("RGB")
            snapshot, thumbnail = io.BytesIO(), io.BytesIO()
            picture.save(snapshot, "JPEG")
            picture.resize((160, 120)).save(thumbnail, "JPEG")
            start = datetime.now(UTC) - timedelta(days=1)
            for i in range(count):
                at = start - timedelta(minutes=i)
                event = Event(
                    id=f"seed{i:04d}",
                    camera="door",
                    kind=Kind.OBJECT,
                    label="person",
                    score=0.8,
                    started_at=at,
                    updated_at=at + timedelta(seconds=5),
                    ended_at=at + timedelta(seconds=5),
                    box=(0.2, 0.1, 0.6, 0.9),
                )
                assert await store.save(event, (snapshot.getvalue(), thumbnail.getvalue()))
        finally:
            await store.close()

    asyncio.run(seed())


@pytest.fixture
def edge_factory(
    start_server: Callable[..., ServerProcess],
    tmp_path: Path,
    pwa_dist: Path,
) -> Callable[..., Edge]:
    """Start a real edge (`python -m peerwatch_edge --config …`) on the fixture video."""

    def start(registrar: str | None = None, name: str = "edge", seed: int = 0) -> Edge:
        """Start it (blocking: call through asyncio.to_thread from async tests)."""
        api_port, ingress_port = free_port(), free_port()
        data_dir = tmp_path / f"{name}-data"
        if seed:
            seed_events(data_dir, IMAGES_DIR, seed)
        config: dict[str, Any] = {
            "data_dir": str(data_dir),
            "models_dir": str(MODELS_DIR),
            "api": {"host": "127.0.0.1", "port": api_port},
            "cameras": [
                {
                    "id": "door",
                    "name": "Front door",
                    "source": str(VIDEO_PATH),
                    "fps": 5,
                    "detect": ["object"],
                    "objects": {"labels": ["person"], "min_score": 0.6},
                    "end_after": 2,
                }
            ],
        }
        if registrar is not None:
            config["registrar"] = {"url": registrar, "key": "peerjs"}
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(config))
        env = {
            "PEERWATCH_NAME": "Home",
            "PEERWATCH_INGRESS_PORT": str(ingress_port),
            "PEERWATCH_INGRESS_HOST": "127.0.0.1",
            "PEERWATCH_INGRESS_ALLOW": "127.0.0.1",
            "PEERWATCH_PWA_DIR": str(pwa_dist),
        }
        server = start_server(
            [PYTHON, "-m", "peerwatch_edge", "--config", str(path)],
            port=api_port,
            name=name,
            env=env,
            health_url=f"http://127.0.0.1:{api_port}/api/v1/health",
        )
        return Edge(server, api_port, ingress_port, data_dir)

    return start
