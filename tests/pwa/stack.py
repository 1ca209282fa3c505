"""The real parts the PWA's tests and benchmark run: its build, registrars and edges on
loopback (plain helpers, shared by tests/pwa/conftest.py and bench/bench_pwa.py)."""

from __future__ import annotations

import asyncio
import io
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PIL import Image

from peerwatch_edge.model import Event, Kind
from peerwatch_edge.store import EventStore
from tests.support import (
    IMAGES_DIR,
    PYTHON,
    REPO,
    EdgeProcess,
    ServerProcess,
    camera_config,
    edge_config,
    start_edge,
    wait_for,
)

PWA = REPO / "pwa"
SRC = PWA / "src"
DIST = PWA / "dist"
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


def wait_for_event(edge: EdgeProcess, label: str = "person") -> dict[str, Any]:
    """Block until `edge` stored a live (not seeded) event with `label` and its snapshot."""

    def done() -> dict[str, Any] | None:
        events = edge.call("GET", f"/events?label={label}&limit=5")["events"]
        live = [e for e in events if e["has_snapshot"] and not e["id"].startswith("seed")]
        return live[0] if live else None

    try:
        return wait_for(done, f"a {label} event", 60)
    except TimeoutError as error:
        msg = f"{error}; the edge's log ends:\n{edge.log()[-3000:]}"
        raise TimeoutError(msg) from None


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


def start_pwa_edge(
    work: Path,
    name: str = "edge",
    registrar: str | None = None,
    seed: int = 0,
    ice_servers: list[dict[str, Any]] | None = None,
) -> EdgeProcess:
    """A real edge on the fixture video named "Home", its ingress site serving the built PWA
    to 127.0.0.1, with `seed` past events stored, registered with `registrar` and offering
    `ice_servers` if given."""
    data_dir = work / f"{name}-data"
    if seed:
        seed_events(data_dir, seed)
    camera = camera_config(
        "door",
        name="Front door",
        detect=["object"],
        objects={"labels": ["person"], "min_score": 0.6},
        end_after=2,
    )
    config = edge_config(data_dir, camera)
    if registrar is not None:
        config["registrar"] = {"url": registrar, "key": "peerjs"}
    if ice_servers is not None:
        config["ice_servers"] = ice_servers
    return start_edge(
        config,
        work,
        name=name,
        env={"PEERWATCH_NAME": "Home"},
        ingress_allow="127.0.0.1",
        pwa_dir=DIST,
    )
