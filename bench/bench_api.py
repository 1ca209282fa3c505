"""Benchmark: a person enters the camera's picture → `event.start` arrives on the API WebSocket.

A snapshot camera served by this script switches from `background.jpg` to `person.jpg` at a
recorded moment; a real edge process polls it, runs the real detector and pushes the event over
`/api/v1/ws`. Latency = WebSocket receipt - switch. Baselines measured in the same run: the raw
detector time on that frame (in this process) and the camera's frame interval (1/fps), which
bounds how late the edge can first *see* the person.

    .venv/bin/python bench/bench_api.py [--trials 20] [--fps 10]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import aiohttp
import numpy as np
from aiohttp import web
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from peerwatch_edge.detectors import Detectors, Models  # noqa: E402
from tests.support import (  # noqa: E402
    IMAGES_DIR,
    MODELS_DIR,
    camera_config,
    edge_config,
    free_port,
    start_edge,
    wait_for_async,
)

GOAL_P95 = 0.3


class Scene:
    """The camera's current picture, switchable, with the switch time recorded."""

    def __init__(self) -> None:
        self.frames = {
            name: (IMAGES_DIR / f"{name}.jpg").read_bytes() for name in ("background", "person")
        }
        self.current = "background"
        self.switched_at = 0.0
        self.switched_wall = 0.0

    def show(self, name: str) -> None:
        self.current = name
        self.switched_at = time.monotonic()
        self.switched_wall = time.time()

    async def snapshot(self, _request: web.Request) -> web.Response:
        return web.Response(body=self.frames[self.current], content_type="image/jpeg")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def detector_baseline(runs: int = 20) -> float:
    """Median seconds of one object detection on person.jpg, as the edge runs it."""
    models = Models(MODELS_DIR, {"object"})
    detectors = Detectors(models, ("object",))
    image = np.asarray(
        Image.open(io.BytesIO((IMAGES_DIR / "person.jpg").read_bytes())).convert("RGB")
    )
    times = []
    for n in range(runs + 2):
        began = time.perf_counter()
        found = detectors.detect(image, float(n))
        if n >= 2:
            times.append(time.perf_counter() - began)
    assert any(d.label == "person" for d in found), "the detector must see the person"
    return statistics.median(times)


async def wait_for(ws: aiohttp.ClientWebSocketResponse, kind: str) -> tuple[float, float]:
    """Wait (10 s at most) for a push of `kind` about a person.

    Return its arrival (monotonic) and the event's `started_at` (wall clock: when the edge got
    the frame that started it).
    """
    async with asyncio.timeout(10):
        while True:
            message = await ws.receive_json()
            if message["type"] == kind and message["event"]["label"] == "person":
                started = datetime.fromisoformat(message["event"]["started_at"])
                return time.monotonic(), started.timestamp()


async def camera_online(session: aiohttp.ClientSession, url: str) -> bool:
    """Whether the bench camera delivers frames (of the empty room, before the first trial)."""
    async with session.get(f"{url}/api/v1/cameras/bench") as resp:
        return bool((await resp.json())["online"])


@dataclass
class Trial:
    total: float  # switch -> WebSocket receipt
    seen: float  # switch -> the edge has the frame (started_at)


async def measure(trials: int, fps: float) -> list[Trial]:
    scene = Scene()
    app = web.Application()
    app.router.add_get("/snapshot.jpg", scene.snapshot)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    camera_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", camera_port).start()
    results: list[Trial] = []
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        camera = camera_config(
            "bench",
            source=f"http://127.0.0.1:{camera_port}/snapshot.jpg",
            fps=fps,
            end_after=0.5,
        )
        config = edge_config(Path(tmp) / "data", camera)
        edge = await asyncio.to_thread(
            start_edge, config, Path(tmp), args=["--log-level", "WARNING"]
        )
        try:
            async with (
                aiohttp.ClientSession(headers=edge.auth) as session,
                session.ws_connect(f"{edge.url}/api/v1/ws") as ws,
            ):
                await ws.receive_json()  # hello
                await wait_for_async(lambda: camera_online(session, edge.url), "camera online")
                for trial in range(trials + 1):
                    scene.show("person")
                    arrived, started = await wait_for(ws, "event.start")
                    if trial:  # the first one warms up caches
                        results.append(
                            Trial(arrived - scene.switched_at, started - scene.switched_wall)
                        )
                    scene.show("background")
                    await wait_for(ws, "event.end")
                    await asyncio.sleep(0.3 + (trial % 5) / (5 * fps))  # vary the phase
        finally:
            await asyncio.to_thread(edge.stop, clean=False)
            await runner.cleanup()
    return results


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--trials", type=int, default=20)
    cli.add_argument("--fps", type=float, default=10.0)
    args = cli.parse_args()
    detector = detector_baseline()
    results = asyncio.run(measure(args.trials, args.fps))
    totals = [r.total for r in results]
    p50, p95 = percentile(totals, 0.5), percentile(totals, 0.95)
    seen = statistics.median(r.seen for r in results)
    push = [r.total - r.seen for r in results]
    interval = 1.0 / args.fps
    ms = 1000
    print(f"trials: {len(results)}, camera fps {args.fps:g}")
    print(
        f"baseline: detector on person.jpg {detector * ms:.1f} ms, "
        f"frame interval {interval * ms:.0f} ms"
    )
    print(
        f"person appears -> WebSocket event.start: p50 {p50 * ms:.0f} ms, "
        f"p95 {p95 * ms:.0f} ms, max {max(totals) * ms:.0f} ms"
    )
    print(
        f"  of which: frame reaches the edge p50 {seen * ms:.0f} ms; frame -> push "
        f"p50 {percentile(push, 0.5) * ms:.0f} ms, p95 {percentile(push, 0.95) * ms:.0f} ms"
    )
    print(f"p50 / detector = {p50 / detector:.1f}x")
    print(f"p50 / (detector + frame interval / 2) = {p50 / (detector + interval / 2):.2f}x")
    verdict = "met" if p95 <= GOAL_P95 else "NOT met"
    print(f"goal p95 <= {GOAL_P95 * ms:.0f} ms: {verdict} (p95 / goal = {p95 / GOAL_P95:.2f})")


if __name__ == "__main__":
    main()
