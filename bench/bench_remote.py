"""Benchmark: remote access over the WebRTC DataChannel, against baselines measured in the same run.

One real registrar (ours) and one real edge process (file camera on the fixture clip, real
models) on loopback; the PWA's side is the Python/aiortc client of tests/edge/remote_client.py.
Figures:
  * paired client start → first event list (register, open the channel, auth, GET /events);
    goal < 1.5 s;
  * 8 event snapshot fetches in parallel vs one at a time on one channel; goal >= 4x;
  * snapshot throughput MB/s over the DataChannel vs the same bytes over the local HTTP API;
  * bytes the registrar relayed vs bytes moved (privacy: signaling only).
Usage: python bench/bench_remote.py [--rounds N]
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


async def run(rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-remote-") as tmp:
        stack = await asyncio.to_thread(make_stack, Path(tmp), MODELS_DIR, VIDEO_PATH)
        try:
            await measure(stack, rounds)
        finally:
            stop_stack(stack)


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
    args = parser.parse_args()
    asyncio.run(run(args.rounds))


if __name__ == "__main__":
    main()
