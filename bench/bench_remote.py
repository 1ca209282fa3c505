"""Benchmark: remote access over the WebRTC DataChannel, against baselines measured in the same run.

One real registrar (ours) and one real edge process (file camera on the fixture clip, real
models) on loopback; the PWA's side is the Python/aiortc client of tests/edge/remote_client.py.
Figures:
  * paired client start → first event list (register, open the channel, auth, GET /events);
    goal < 1.5 s;
  * 8 event snapshot fetches in parallel vs one at a time on one channel; goal >= 4x; measured
    twice: on plain loopback (round trip ~0, nothing to overlap: the ratio shows only CPU
    contention) and through a UDP relay (a child process) that delays every packet between the
    two ICE endpoints by `--delay` (default 40 ms one way, an 80 ms round trip, like a phone on
    mobile data reaching home);
  * snapshot throughput MB/s over the DataChannel vs the same bytes over the local HTTP API;
  * bytes the registrar relayed vs bytes moved (privacy: signaling only);
  * the same fetches from headless Chromium: npm `peerjs` 1.5.5 and the PWA's own `EdgeChannel`
    (pwa/src/lib/channel.js), paired with the same code flow, on loopback and through the relay
    at each of `--delays` (default 10, 40, 100 ms one way: 20, 80, 200 ms round trips; the page
    rewrites the ICE candidates both ways to the relay's; `--no-browser` skips it); plus one
    5 MB body (the first 5 MB of an event clip: the camera records with a long post-roll so one
    recording grows past 5 MB) fetched as one request and the way the app's clip player fetches
    it (256 KiB ranged parts, several in flight); goals through 80 ms: 8 snapshots in parallel
    >= 4x faster than one at a time, the 5 MB body at >= 5 MB/s. Local HTTP on the same machine
    is the ceiling; through the relay the most "in parallel" can gain here is printed too (in
    parallel on loopback, bound by the CPU, plus one round trip); the kernel's count of dropped
    UDP datagrams and the load average are printed with each condition (the machine may be
    shared). PEERWATCH_SCTP_PACING=0 in the environment runs the edge with aiortc's own SCTP
    sending, to compare (remote/pacing.py).
Usage: python bench/bench_remote.py [--rounds N] [--delay S] [--delays S,S,S] [--no-browser]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import signal
import socket
import statistics
import struct
import sys
import tempfile
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import aiohttp  # noqa: E402

from peerwatch_edge.remote.udp import UDP_BUFFER  # noqa: E402
from tests.edge.remote_client import EdgeLink, RegistrarClient, Signaler  # noqa: E402
from tests.edge.remote_stack import (  # noqa: E402
    Stack,
    event_with_snapshot,
    make_stack,
    paired_link,
    pairing_code,
    peerjs_page,
    relayed_bytes,
    stop_stack,
)
from tests.support import PYTHON, wait_for_async  # noqa: E402

type Fetch = Callable[[], Awaitable[None]]

SO_TIMESTAMPNS = 35
"""Linux's socket option for kernel receive times (Python's socket module does not name it)."""
BODY_BYTES = 5 * 1024 * 1024
CAMERA = {"record": {"post_roll": 60}}
"""A long post-roll: the looping clip's events overlap, so one recording grows past 5 MB."""


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


async def timed(fetch: Fetch, n: int, parallel: bool) -> float:
    began = time.perf_counter()
    if parallel:
        await asyncio.gather(*(fetch() for _ in range(n)))
    else:
        for _ in range(n):
            await fetch()
    return time.perf_counter() - began


class RelaySide:
    """One socket of a `DelayRelay`: what it receives leaves from the other socket, late.

    Each datagram is due `delay` after the kernel received it (SO_TIMESTAMPNS), not after the
    relay read it: a relay scheduled late on a busy machine would otherwise stamp everything
    that waited in its socket with one time and release it as one burst, which no network path
    does. The delay is the same for every datagram, so they wait in a FIFO behind one timer: a
    timer per datagram cost the relay, which shares the CPU with the edge and the client, 40%
    more."""

    def __init__(self, relay: DelayRelay, side: str, other: str) -> None:
        self.relay = relay
        self.side = side
        self.other = other
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UDP_BUFFER)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, UDP_BUFFER)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.queue: deque[tuple[float, bytes, tuple[str, int]]] = deque()
        self.timer: asyncio.TimerHandle | None = None

    def readable(self) -> None:
        """Queue every datagram waiting in the socket, each due `delay` after it arrived."""
        relay = self.relay
        loop = asyncio.get_running_loop()
        while True:
            try:
                data, ancillary, _, addr = self.sock.recvmsg(65536, 64)
            except BlockingIOError:
                return
            except OSError:  # an ICMP error reported on the socket: the next datagram
                continue
            relay.peers[self.side] = addr
            target = relay.peers.get(self.other)
            if target is None:  # dropped until the far side has spoken (ICE retries)
                continue
            now = time.time()
            arrived = now
            for level, kind, value in ancillary:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                    seconds, nanoseconds = struct.unpack("qq", value[:16])
                    arrived = seconds + nanoseconds / 1e9
            due = loop.time() + relay.delay - (now - arrived)
            self.queue.append((due, data, target))
            if self.timer is None:
                self.timer = loop.call_at(self.queue[0][0], self.release)

    def release(self) -> None:
        """Send every datagram whose time has come; wait for the next one."""
        loop = asyncio.get_running_loop()
        out = self.relay.sides[self.other].sock
        now = loop.time()
        while self.queue and self.queue[0][0] <= now:
            _, data, target = self.queue.popleft()
            with contextlib.suppress(OSError):  # dropped, as on a path (a full buffer, ...)
                out.sendto(data, target)
        self.timer = loop.call_at(self.queue[0][0], self.release) if self.queue else None


class DelayRelay:
    """Two UDP sockets on 127.0.0.1 that pass datagrams between the two ICE endpoints late.

    The app is told the edge is at the `app` socket, the edge that the app is at the `edge`
    socket; each side's real address is learnt from the datagrams it sends. Runs as a child
    process (`--relay`, until its stdin closes) so that it shares no GIL with the client.
    """

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.sides: dict[str, RelaySide] = {}
        self.peers: dict[str, tuple[str, int]] = {}

    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        for side, other in (("app", "edge"), ("edge", "app")):
            self.sides[side] = RelaySide(self, side, other)
            loop.add_reader(self.sides[side].sock, self.sides[side].readable)
        print(*(self.sides[s].sock.getsockname()[1] for s in ("app", "edge")), flush=True)
        await asyncio.to_thread(sys.stdin.read)  # the parent closed the pipe or died


def with_candidate(sdp: str, port: int) -> str:
    """The SDP with its candidates replaced by one host candidate at 127.0.0.1:port."""
    sdp = re.sub(r"^a=candidate:.*\r?\n", "", sdp, flags=re.M)
    line = f"a=candidate:relay 1 udp 2130706431 127.0.0.1 {port} typ host\r\n"
    return sdp.replace("a=end-of-candidates", line + "a=end-of-candidates", 1)


class DelayedPath:
    """A `Signaler` that sends the offer and answer through the registrar with the relay's
    addresses in place of the real candidates, so every packet takes the delayed path."""

    def __init__(self, registrar: Signaler, app_side: int, edge_side: int) -> None:
        self.registrar = registrar
        self.app_side = app_side
        self.edge_side = edge_side

    async def exchange(self, dst: str, offer: dict[str, Any]) -> dict[str, Any]:
        sdp = offer["sdp"]
        offer = {**offer, "sdp": {**sdp, "sdp": with_candidate(sdp["sdp"], self.edge_side)}}
        answer = await self.registrar.exchange(dst, offer)
        sdp = answer["sdp"]
        return {**answer, "sdp": {**sdp, "sdp": with_candidate(sdp["sdp"], self.app_side)}}


async def run(
    rounds: int, delay: float, delays: list[float], browser: bool, browser_only: bool
) -> None:
    task = asyncio.current_task()
    assert task is not None
    # SIGTERM (a timeout, a kill) cancels the run, so the edge and registrar it started stop too
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    with tempfile.TemporaryDirectory(prefix="bench-remote-") as tmp:
        stack = await asyncio.to_thread(make_stack, Path(tmp), **CAMERA)
        try:
            if not browser_only:
                await measure(stack, rounds, delay)
            if browser:
                await measure_chromium(stack, rounds, delays, Path(tmp))
        finally:
            stop_stack(stack)


CHROMIUM_PAGE = """async ({registrar, edgeId, code, paths, body, rounds, relay}) => {
  if (relay) {
    // Every packet through the DelayRelay: the edge learns our candidates as its side of the
    // relay, we learn the edge's (in its answer) as ours (the page's own RTCPeerConnections).
    const line = (port) => `candidate:relay 1 udp 2130706431 127.0.0.1 ${port} typ host`;
    const toJSON = RTCIceCandidate.prototype.toJSON;
    RTCIceCandidate.prototype.toJSON = function () {
      return {...toJSON.call(this), candidate: line(relay.edgeSide)};
    };
    const setRemote = RTCPeerConnection.prototype.setRemoteDescription;
    RTCPeerConnection.prototype.setRemoteDescription = function (desc) {
      const sdp = desc.sdp.replace(/^a=candidate:.*\\r\\n/gm, "")
        .replace("a=end-of-candidates", `a=${line(relay.appSide)}\\r\\na=end-of-candidates`);
      return setRemote.call(this, {type: desc.type, sdp});
    };
  }
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
  // One large body: as one request, and as the clip player fetches it (ranged parts in flight).
  const {fetchRange, inOrder, PART_BYTES, PARALLEL_PARTS} = await import("./lib/clip.js");
  const transport = {request: (m, p, b, o) => channel.request(m, p, b, o)};
  const whole = async () => {
    const headers = {range: `bytes=0-${body.size - 1}`};
    const resp = await channel.request("GET", body.path, null, {headers, timeout: 120000});
    if ((await resp.arrayBuffer()).byteLength !== body.size) throw new Error("short body");
  };
  const parts = async () => {
    const tasks = [];
    for (let start = 0; start < body.size; start += PART_BYTES) {
      const end = Math.min(start + PART_BYTES, body.size) - 1;
      tasks.push(() => fetchRange(transport, body.path, start, end).then((p) => p.bytes.length));
    }
    let got = 0;
    for await (const n of inOrder(tasks, PARALLEL_PARTS)) got += n;
    if (got !== body.size) throw new Error("short body");
  };
  const one = [], ranged = [];
  for (let i = 0; i < Math.min(rounds, 3); i++) {
    one.push(await time(whole));
    ranged.push(await time(parts));
  }
  out.body = {size: body.size, one: median(one), parts: median(ranged), partBytes: PART_BYTES,
              parallel: PARALLEL_PARTS};
  channel.close();
  peer.destroy();
  return out;
}"""


async def big_clip(http: aiohttp.ClientSession) -> str:
    """The path of an event clip of at least BODY_BYTES (it may still be recording)."""

    async def found() -> str | None:
        async with http.get("/api/v1/events?limit=50") as resp:
            events = (await resp.json())["events"]
        for event in events:
            path = f"/api/v1/events/{event['id']}/clip.mp4"
            if event["has_clip"]:
                async with http.head(path) as resp:
                    if resp.status == 200 and (resp.content_length or 0) >= BODY_BYTES:
                        return path
        return None

    return await wait_for_async(found, "a 5 MB event clip", 300)


async def http_ceiling(
    http: aiohttp.ClientSession, snapshot: str, clip: str, rounds: int
) -> tuple[float, float]:
    """Local HTTP on this machine: MB/s of 8 snapshots in parallel and of the 5 MB body."""

    async def get(path: str, **headers: str) -> int:
        async with http.get(path, headers=headers) as resp:
            return len(await resp.read())

    async def snapshots() -> None:
        await asyncio.gather(*(get(snapshot) for _ in range(8)))

    async def body() -> None:
        assert await get(clip, Range=f"bytes=0-{BODY_BYTES - 1}") == BODY_BYTES

    size = await get(snapshot)
    snap = statistics.median([await timed(snapshots, 1, False) for _ in range(rounds)])
    whole = statistics.median([await timed(body, 1, False) for _ in range(rounds)])
    return 8 * size / snap / 1e6, BODY_BYTES / whole / 1e6


async def measure_chromium(stack: Stack, rounds: int, delays: list[float], tmp: Path) -> None:
    """The same fetches and the 5 MB body from headless Chromium with npm peerjs and the PWA's
    EdgeChannel, on loopback and through the delay relay at each of `delays`."""
    from tests.browser import chromium

    with peerjs_page(tmp) as page_url:
        async with aiohttp.ClientSession(stack.edge.url, headers=stack.edge.auth) as http:
            event_id = await event_with_snapshot(http)
            clip = await big_clip(http)
            paths = [f"/api/v1/events/{event_id}/{name}.jpg" for name in ("snapshot", "thumbnail")]
            ceiling = await http_ceiling(http, paths[0], clip, rounds)
        print(
            f"local HTTP (the ceiling): 8 snapshots in parallel {ceiling[0]:.1f} MB/s, "
            f"the 5 MB body {ceiling[1]:.1f} MB/s; {load()}"
        )
        async with chromium() as browser:
            loopback = None
            for one_way in (None, *delays):
                async with contextlib.AsyncExitStack() as paths_open:
                    relay = None
                    condition = "loopback"
                    if one_way is not None:
                        app_side, edge_side = await paths_open.enter_async_context(
                            delay_relay(one_way)
                        )
                        relay = {"appSide": app_side, "edgeSide": edge_side}
                        condition = f"relay, {2000 * one_way:.0f} ms round trip"
                    page = await browser.new_page()
                    await page.goto(page_url)
                    async with aiohttp.ClientSession(
                        stack.edge.url, headers=stack.edge.auth
                    ) as http:
                        code = await pairing_code(http)
                    args = {
                        "registrar": stack.registrar_url,
                        "edgeId": stack.peer_id,
                        "code": code,
                        "paths": paths,
                        "body": {"path": clip, "size": BODY_BYTES},
                        "rounds": rounds,
                        "relay": relay,
                    }
                    drops_before = udp_receive_drops()
                    figures = await page.evaluate(CHROMIUM_PAGE, args)
                    drops = udp_receive_drops() - drops_before
                    await page.close()
                report_chromium(figures, paths, condition, loopback, 2 * (one_way or 0.0))
                loopback = loopback or figures  # the first condition is loopback
                print(
                    f"  UDP datagrams dropped by full receive buffers meanwhile: {drops}; {load()}"
                )


def load() -> str:
    """The machine's load average (other work shares it)."""
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def udp_receive_drops() -> int:
    """The kernel's count of UDP datagrams dropped because a socket's receive buffer was full
    (every socket of the machine; each drop halves the sender's SCTP congestion window)."""
    snmp = Path("/proc/net/snmp")
    if not snmp.exists():
        return 0
    udp = [line.split() for line in snmp.read_text().splitlines() if line.startswith("Udp:")]
    names, values = udp
    return int(values[names.index("RcvbufErrors")])


def report_chromium(
    figures: dict[str, Any],
    paths: list[str],
    condition: str,
    loopback: dict[str, Any] | None,
    rtt: float,
) -> None:
    """Print one condition's figures; through the relay (`loopback` measured, None while it is
    measured) also the most "in parallel" can gain on this machine: the same fetches in parallel
    on loopback (CPU-bound) take one `rtt` more."""
    for path, what in zip(paths, ("snapshots", "thumbnails"), strict=True):
        f = figures[path]
        rate = 8 * f["size"] / (f["parallel"] / 1000) / 1e6
        bound = ""
        if loopback is not None:
            fastest = loopback[path]["parallel"] + 1000 * rtt
            bound = f" (at most {f['serial'] / fastest:.2f}x here: {fastest:.0f} ms)"
        print(
            f"Chromium (npm peerjs + the PWA's EdgeChannel), 8 {what} ({f['size']} B), "
            f"{condition}: one at a time {f['serial']:.0f} ms, in parallel {f['parallel']:.0f} ms"
            f" -> {f['serial'] / f['parallel']:.2f}x faster{bound}; {rate:.2f} MB/s"
        )
    body = figures["body"]
    mb = body["size"] / 1e6
    print(
        f"  one {mb:.1f} MB body, {condition}: one request {mb / (body['one'] / 1000):.2f} MB/s; "
        f"{body['partBytes'] // 1024} KiB ranged parts, {body['parallel']} in flight (the clip "
        f"player) {mb / (body['parts'] / 1000):.2f} MB/s"
    )


@asynccontextmanager
async def delay_relay(delay: float) -> AsyncIterator[tuple[int, int]]:
    """A `DelayRelay` child process; yields its (app side, edge side) ports."""
    child = await asyncio.create_subprocess_exec(
        PYTHON,
        __file__,
        "--relay",
        str(delay),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert child.stdout is not None
        app_side, edge_side = map(int, (await child.stdout.readline()).split())
        yield app_side, edge_side
    finally:
        assert child.stdin is not None
        child.stdin.close()
        await child.wait()


async def compare(
    link: EdgeLink,
    http: aiohttp.ClientSession | None,
    targets: list[tuple[str, int, str]],
    rounds: int,
    condition: str,
) -> int:
    """8 fetches one at a time vs in parallel on `link` (and over `http`); return bytes moved."""
    moved = 0
    for target, length, what in targets:

        async def over_channel(target: str = target, length: int = length) -> None:
            resp = await link.request("GET", target)
            assert (resp.status, len(resp.body)) == (200, length)

        async def over_http(target: str = target, length: int = length) -> None:
            assert http is not None
            async with http.get(target) as resp:
                assert (resp.status, len(await resp.read())) == (200, length)

        await timed(over_channel, 8, True)  # warm-up
        serial, parallel, http_parallel = [], [], []
        for _ in range(rounds):
            serial.append(await timed(over_channel, 8, False))
            parallel.append(await timed(over_channel, 8, True))
            if http is not None:
                http_parallel.append(await timed(over_http, 8, True))
            moved += 16 * length
        s, p = statistics.median(serial), statistics.median(parallel)
        print(
            f"8 {what} ({length} B) on one DataChannel, {condition}: one at a time "
            f"{s * 1000:.0f} ms, in parallel {p * 1000:.0f} ms -> {s / p:.2f}x faster (goal >= 4x)"
        )
        dc_rate = 8 * length / p / 1e6
        if http is None:
            print(f"  throughput, 8 in parallel: DataChannel {dc_rate:.2f} MB/s")
            continue
        http_rate = 8 * length / statistics.median(http_parallel) / 1e6
        print(
            f"  throughput, 8 in parallel: DataChannel {dc_rate:.2f} MB/s, local HTTP "
            f"{http_rate:.1f} MB/s -> DataChannel/HTTP = {dc_rate / http_rate:.3f}"
        )
    return moved


async def measure(stack: Stack, rounds: int, delay: float) -> None:
    async with (
        aiohttp.ClientSession(stack.edge.url, headers=stack.edge.auth) as http,
        RegistrarClient(stack.registrar_url) as registrar,
    ):
        relayed_before = await relayed_bytes(stack.registrar_url)
        link = await paired_link(http, registrar, stack.peer_id)
        assert link.device is not None
        device = link.device
        event_id = await event_with_snapshot(http)
        targets = []
        for name, what in (("snapshot", "snapshots"), ("thumbnail", "thumbnails")):
            target = f"/api/v1/events/{event_id}/{name}.jpg"
            async with http.get(target) as resp:
                targets.append((target, len(await resp.read()), what))
        print(f"snapshot: {targets[0][1]} bytes, thumbnail: {targets[1][1]} bytes")

        starts = [await first_events(stack, link.device) for _ in range(rounds)]
        print(
            f"paired client start -> first event list: median {statistics.median(starts):.3f} s, "
            f"max {max(starts):.3f} s over {rounds} cold starts (goal < 1.5 s)"
        )
        moved = await compare(link, http, targets, rounds, "loopback")
        await link.close()
        for one_way in (0.0, delay):
            async with delay_relay(one_way) as (app_side, edge_side):
                path = DelayedPath(registrar, app_side, edge_side)
                link = await EdgeLink.open(path, stack.peer_id)
                assert (await link.auth(*device))["type"] == "auth_ok"
                condition = f"relay, {2000 * one_way:.0f} ms round trip"
                moved += await compare(link, None, targets, rounds, condition)
                await link.close()
        relayed = await relayed_bytes(stack.registrar_url) - relayed_before
        print(
            f"registrar relayed {relayed:.0f} bytes (all signaling of this run: pairing and "
            f"{rounds} cold starts) while {moved} bytes moved over DataChannels "
            f"(ratio {relayed / moved:.5f})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="repetitions of each figure")
    parser.add_argument(
        "--delay", type=float, default=0.04, help="one-way delay of the relayed path, seconds"
    )
    parser.add_argument(
        "--delays",
        default="0.01,0.04,0.1",
        help="one-way delays of the Chromium figures' relayed paths, seconds, comma-separated",
    )
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium figures")
    parser.add_argument(
        "--browser-only", action="store_true", help="only the Chromium figures (and the ceiling)"
    )
    parser.add_argument("--relay", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.relay is not None:
        asyncio.run(DelayRelay(args.relay).serve())
    else:
        delays = [float(d) for d in args.delays.split(",")]
        try:
            asyncio.run(
                run(args.rounds, args.delay, delays, not args.no_browser, args.browser_only)
            )
        except asyncio.CancelledError:
            sys.exit("bench_remote: stopped by SIGTERM (its edge and registrar were stopped)")


if __name__ == "__main__":
    main()
