"""The real parts the PWA's tests and benchmark run: its build, registrars and edges on
loopback (plain helpers, shared by tests/pwa/conftest.py and bench/bench_pwa.py)."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from PIL import Image

from peerwatch_edge.model import Event, Kind
from peerwatch_edge.store import EventStore
from tests.support import IMAGES_DIR, MODELS_DIR, PYTHON, REPO, VIDEO_PATH, ServerProcess, free_port

PWA = REPO / "pwa"
SRC = PWA / "src"
DIST = PWA / "dist"
CHROMIUM = "/usr/bin/chromium"
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


def registrar_process(port: int, log_path: Path, static: Path = DIST) -> ServerProcess:
    """A registrar on 127.0.0.1:`port` serving the built PWA (not started)."""
    argv = [PYTHON, "-m", "peerwatch_registrar", "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--static", str(static)]
    return ServerProcess(
        argv, port=port, log_path=log_path, health_url=f"http://127.0.0.1:{port}/health"
    )


@dataclass
class Edge:
    """A real edge process on loopback: file camera, real models, local API and ingress site."""

    server: ServerProcess
    api_port: int
    ingress_port: int
    data_dir: Path

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}/api/v1"

    @property
    def ingress(self) -> str:
        return f"http://127.0.0.1:{self.ingress_port}/"

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
        """Block until the edge stored a live (not seeded) event with `label` and its snapshot."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            events = self.call("GET", f"/events?label={label}&limit=5")["events"]
            done = [e for e in events if e["has_snapshot"] and not e["id"].startswith("seed")]
            if done:
                return done[0]
            time.sleep(0.5)
        msg = f"no {label} event after {timeout}s:\n{self.server.log()[-3000:]}"
        raise TimeoutError(msg)


def seed_events(data_dir: Path, count: int) -> None:
    """Store `count` past person events (yesterday, a minute apart) with real pictures, through
    the edge's own EventStore, before the edge starts (a history to scroll through)."""

    async def seed() -> None:
        store = EventStore(data_dir)
        await store.open()
        try:
            picture = Image.open(IMAGES_DIR / "person-no-face.jpg").convert("RGB")
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


def edge_process(
    work: Path,
    name: str = "edge",
    registrar: str | None = None,
    seed: int = 0,
    ice_servers: list[dict[str, Any]] | None = None,
) -> Edge:
    """A real edge (`python -m peerwatch_edge --config …`) on the fixture video (not started)."""
    api_port, ingress_port = free_port(), free_port()
    data_dir = work / f"{name}-data"
    if seed:
        seed_events(data_dir, seed)
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
    if ice_servers is not None:
        config["ice_servers"] = ice_servers
    path = work / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    env = {
        "PEERWATCH_NAME": "Home",
        "PEERWATCH_INGRESS_PORT": str(ingress_port),
        "PEERWATCH_INGRESS_HOST": "127.0.0.1",
        "PEERWATCH_INGRESS_ALLOW": "127.0.0.1",
        "PEERWATCH_PWA_DIR": str(DIST),
    }
    server = ServerProcess(
        [PYTHON, "-m", "peerwatch_edge", "--config", str(path)],
        port=api_port,
        log_path=work / f"{name}.log",
        env=env,
        health_url=f"http://127.0.0.1:{api_port}/api/v1/health",
    )
    return Edge(server, api_port, ingress_port, data_dir)
