"""Benchmark: remote access over the WebRTC DataChannel, against baselines measured in the same run.

One real registrar (ours) and one real edge process (file camera on the fixture clip, real
models) on loopback; the PWA's side is the Python/aiortc client of tests/edge/remote_client.py.
Figures:
  * paired client start → first event list (register, open the channel, auth, GET /events);
    goal < 1.5 s;
  * 8 event snapshot fetches in parallel vs one at a time on one channel; goal >= 4x;
  * snapshot throughput MB/s over the DataChannel vs the same bytes over the local HTTP API;
  * bytes the registrar relayed vs bytes moved (privacy: signaling only);
  * the same fetches from headless Chromium: npm `peerjs` 1.5.5 and the PWA's own `EdgeChannel`
    (pwa/src/lib/channel.js), paired with the same code flow (`--no-browser` skips it).
Usage: python bench/bench_remote.py [--rounds N] [--no-browser]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import aiohttp  # noqa: E402

from tests.edge.remote_client import EdgeLink, RegistrarClient  # noqa: E402
from tests.edge.remote_stack import (  # noqa: E402
    Stack,
    event_with_snapshot,
    make_stack,
    paired_link,
    relayed_bytes,
    stop_stack,
)
from tests.support import MODELS_DIR, VIDEO_PATH  # noqa: E402


async def first_events(stack: Stack, device: tuple[str, bytes]) -> float:
    """Seconds from a cold client (new registration) to the first event list."""
    began = time.perf_counter()
    async with RegistrarClient(stack.registrar_url) as registrar:
        link = await EdgeLink.open(registrar, stack.peer_id)
        assert (await link.auth(*device))["type"] == "auth_ok"
        resp = await link.request("GET", "/api/v1/events")
        elapsed = time.perf_counter() - began
        assert resp.status == 200
        await link.close()
    return elapsed


async def timed(coro_factory: object, n: int, parallel: bool) -> float:
    began = time.perf_counter()
    if parallel:
        await asyncio.gather(*(coro_factory() for _ in range(n)))  # type: ignore[operator]
    else:
        for _ in range(n):
            await coro_factory()  # type: ignore[operator]
    return time.perf_counter() - began


async def run(rounds: int, browser: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-remote-") as tmp:
        stack = await asyncio.to_thread(make_stack, Path(tmp), MODELS_DIR, VIDEO_PATH)
        try:
            await measure(stack, rounds)
            if browser:
                await measure_chromium(stack, rounds, Path(tmp))
        finally:
            stop_stack(stack)


CHROMIUM_PAGE = """async ({registrar, edgeId, code, paths, rounds}) => {
  const {EdgeChannel} = await import("./lib/channel.js");
  const {fingerprintOfCertificate} = await import("./lib/crypto.js");
  const certificate = await RTCPeerConnection.generateCertificate(
    {name: "ECDSA", namedCurve: "P-256"});
  const url = new URL(registrar);
  const peer = new peerjs.Peer(`pw-app-bench${Date.now()}`, {host: url.hostname,
    port: Number(url.port), path: "/", key: "peerjs", secure: false,
    config: {iceServers: [], certificates: [certificate]}});
  await new Promise((resolve, reject) => { peer.on("open", resolve); peer.on("error", reject); });
  const identity = {fingerprint: fingerprintOfCertificate(certificate)};
  const channel = new EdgeChannel(peer, edgeId, identity);
  await channel.open();
  await channel.pair(code, "Chromium bench");
  const fetchOne = async (path) => {
    const resp = await channel.request("GET", path);
    return (await resp.arrayBuffer()).byteLength;
  };
  const time = async (fn) => {
    const t = performance.now();
    await fn();
    return performance.now() - t;
  };
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const out = {};
  for (const path of paths) {
    await Promise.all(Array.from({length: 8}, () => fetchOne(path)));
    const serial = [], parallel = [];
    for (let i = 0; i < rounds; i++) {
      serial.push(await time(async () => { for (let k = 0; k < 8; k++) await fetchOne(path); }));
      parallel.push(await time(() => Promise.all(Array.from({length: 8}, () => fetchOne(path)))));
    }
    out[path] = {size: await fetchOne(path), serial: median(serial), parallel: median(parallel)};
  }
  channel.close();
  peer.destroy();
  return out;
}"""


async def measure_chromium(stack: Stack, rounds: int, tmp: Path) -> None:
    """The same fetches from headless Chromium with npm peerjs and the PWA's EdgeChannel."""
    from playwright.async_api import async_playwright

    from tests.pwa.stack import CHROMIUM, CHROMIUM_ARGS, SRC
    from tests.support import PYTHON, ServerProcess, free_port

    site = tmp / "site"
    site.mkdir()
    (site / "lib").symlink_to(SRC / "lib")
    peerjs = REPO / "pwa" / "node_modules" / "peerjs" / "dist" / "peerjs.min.js"
    (site / "peerjs.min.js").symlink_to(peerjs)
    (site / "index.html").write_text('<!doctype html><script src="peerjs.min.js"></script>')
    port = free_port()
    argv = [PYTHON, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(site), str(port)]
    server = ServerProcess(argv, port=port, log_path=tmp / "site.log").start()
    try:
        async with aiohttp.ClientSession(stack.api_url, headers=stack.auth) as http:
            event_id = await event_with_snapshot(http)
            async with http.post("/api/v1/pairing") as resp:
                code = (await resp.json())["code"]
        paths = [f"/api/v1/events/{event_id}/{name}.jpg" for name in ("snapshot", "thumbnail")]
        async with async_playwright() as pw:
            chromium = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = await chromium.new_page()
                await page.goto(f"http://127.0.0.1:{port}/index.html")
                args = {
                    "registrar": stack.registrar_url,
                    "edgeId": stack.peer_id,
                    "code": code,
                    "paths": paths,
                    "rounds": rounds,
                }
                figures = await page.evaluate(CHROMIUM_PAGE, args)
            finally:
                await chromium.close()
    finally:
        server.stop()
    for path, what in zip(paths, ("snapshots", "thumbnails"), strict=True):
        f = figures[path]
        rate = 8 * f["size"] / (f["parallel"] / 1000) / 1e6
        print(
            f"Chromium (npm peerjs + the PWA's EdgeChannel), 8 {what} ({f['size']} B): one at a "
            f"time {f['serial']:.0f} ms, in parallel {f['parallel']:.0f} ms -> "
            f"{f['serial'] / f['parallel']:.2f}x faster; {rate:.2f} MB/s"
        )


async def measure(stack: Stack, rounds: int) -> None:
    async with (
        aiohttp.ClientSession(stack.api_url, headers=stack.auth) as http,
        RegistrarClient(stack.registrar_url) as registrar,
    ):
        relayed_before = await relayed_bytes(stack.registrar_url)
        moved = 0
        link = await paired_link(http, registrar, stack.peer_id)
        assert link.device is not None
        event_id = await event_with_snapshot(http)
        path = f"/api/v1/events/{event_id}/snapshot.jpg"
        async with http.get(path) as resp:
            size = len(await resp.read())
        print(f"snapshot: {size} bytes ({(size + 16383) // 16384} chunks of 16 KiB)")

        starts = [await first_events(stack, link.device) for _ in range(rounds)]
        print(
            f"paired client start -> first event list: median {statistics.median(starts):.3f} s, "
            f"max {max(starts):.3f} s over {rounds} cold starts (goal < 1.5 s)"
        )

        def fetcher(target: str, length: int, channel: bool) -> object:
            async def over_channel() -> None:
                resp = await link.request("GET", target)
                assert (resp.status, len(resp.body)) == (200, length)

            async def over_http() -> None:
                async with http.get(target) as resp:
                    assert (resp.status, len(await resp.read())) == (200, length)

            return over_channel if channel else over_http

        thumb = f"/api/v1/events/{event_id}/thumbnail.jpg"
        async with http.get(thumb) as resp:
            thumb_size = len(await resp.read())
        for target, length, what in ((path, size, "snapshots"), (thumb, thumb_size, "thumbnails")):
            over_channel = fetcher(target, length, channel=True)
            over_http = fetcher(target, length, channel=False)
            await timed(over_channel, 8, True)  # warm-up
            serial, parallel, http_parallel = [], [], []
            for _ in range(rounds):
                serial.append(await timed(over_channel, 8, False))
                parallel.append(await timed(over_channel, 8, True))
                http_parallel.append(await timed(over_http, 8, True))
                moved += 16 * length
            s, p, h = (statistics.median(x) for x in (serial, parallel, http_parallel))
            print(
                f"8 {what} ({length} B) on one DataChannel: one at a time {s * 1000:.0f} ms, "
                f"in parallel {p * 1000:.0f} ms -> {s / p:.2f}x faster (goal >= 4x)"
            )
            dc_rate = 8 * length / p / 1e6
            http_rate = 8 * length / h / 1e6
            print(
                f"  throughput, 8 in parallel: DataChannel {dc_rate:.2f} MB/s, local HTTP "
                f"{http_rate:.1f} MB/s -> DataChannel/HTTP = {dc_rate / http_rate:.3f}"
            )
        relayed = await relayed_bytes(stack.registrar_url) - relayed_before
        print(
            f"registrar relayed {relayed:.0f} bytes (all signaling of this run: pairing and "
            f"{rounds} cold starts) while {moved} bytes moved over DataChannels "
            f"(ratio {relayed / moved:.5f})"
        )
        await link.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="repetitions of each figure")
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium figures")
    args = parser.parse_args()
    asyncio.run(run(args.rounds, not args.no_browser))


if __name__ == "__main__":
    main()
