"""Benchmark: the Peerwatch registrar against the reference npm `peer` 1.0.2 server, side by side.

Both servers run on loopback in this one run, with the same load generator (Node + `ws` from
pwa/node_modules, a separate process, embedded below). Figures:
  * sockets held: N registered idle WebSockets (1k, 5k, 10k), time to connect, RSS per socket;
  * relay: 1000 clients in a ring, each received CANDIDATE (~350 B) triggers the next send
    (1000 messages in flight); messages/s, p50/p99 latency, server CPU per message.
Ratios are ours / reference. Usage: python bench/bench_registrar.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NODE_MODULES = REPO / "pwa" / "node_modules"

LOADGEN_JS = r"""
const WebSocket = require("ws");
const readline = require("readline");
const [mode, url, ...rest] = process.argv.slice(2);
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const waiters = [];
readline.createInterface({input: process.stdin}).on("line", () => {
  const w = waiters.shift();
  if (w) w();
});
const nextLine = () => new Promise((r) => waiters.push(r));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let prefix = "c", localAddress;

function open(i, onMsg) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url}?key=peerjs&id=${prefix}${i}&token=t${i}&version=1.5.5`,
                             {perMessageDeflate: false, localAddress});
    const timer = setTimeout(() => { ws.terminate(); reject(new Error("timeout")); }, 15000);
    ws.once("error", (e) => { clearTimeout(timer); reject(e); });
    ws.once("message", (data) => {
      clearTimeout(timer);
      if (JSON.parse(data).type !== "OPEN") { reject(new Error(String(data))); return; }
      if (onMsg) ws.on("message", (d) => onMsg(i, d));
      resolve(ws);
    });
  });
}

// Open sockets [from, to) in batches of 100; stop at the first batch with a failure.
async function connectRange(from, to, socks, onMsg) {
  for (let b = from; b < to; b += 100) {
    const batch = [];
    for (let i = b; i < Math.min(b + 100, to); i++) {
      batch.push(open(i, onMsg).then((ws) => { socks[i] = ws; }));
    }
    const failed = (await Promise.allSettled(batch)).filter((r) => r.status === "rejected");
    if (failed.length) return String(failed[0].reason);
  }
  return null;
}

async function hold(levels) {
  const socks = [];
  let have = 0;
  for (const n of levels) {
    const t0 = performance.now();
    const error = have < n ? await connectRange(have, n, socks) : null;
    const held = socks.filter(Boolean).length;
    out({level: n, held, secs: (performance.now() - t0) / 1000, error});
    have = Math.max(have, n);
    await nextLine();
  }
  for (const ws of socks) if (ws) ws.terminate();
  out({done: true});
}

async function relay(n, secs, size) {
  const socks = [];
  const pad = "x".repeat(size);
  const lat = [];
  let measuring = false, running = true, count = 0, errors = 0;
  const send = (i) => socks[i].send(`{"type":"CANDIDATE","dst":"c${(i + 1) % n}",` +
    `"payload":{"t":${performance.now()},"candidate":"${pad}"}}`);
  const onMsg = (i, data) => {
    const m = JSON.parse(data);
    if (m.type !== "CANDIDATE") { errors++; return; }
    if (measuring) { count++; lat.push(performance.now() - m.payload.t); }
    if (running) send(i);
  };
  const error = await connectRange(0, n, socks, onMsg);
  if (error) throw new Error(error);
  out({ready: true});
  await nextLine();
  for (let i = 0; i < n; i++) send(i);
  await sleep(1000);  // warm-up
  measuring = true;
  const t0 = performance.now();
  await sleep(secs * 1000);
  measuring = false;
  const took = (performance.now() - t0) / 1000;
  running = false;
  lat.sort((a, b) => a - b);
  const q = (p) => lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] : NaN;
  out({msgs: count, secs: took, rate: count / took, p50: q(0.5), p99: q(0.99), errors});
  await nextLine();
  for (const ws of socks) ws.terminate();
}

if (mode === "hold") {
  [prefix, localAddress] = [rest[1], rest[2]];
  hold(rest[0].split(",").map(Number));
} else relay(Number(rest[0]), Number(rest[1]), Number(rest[2]));
"""


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_kb(pid: int) -> int:
    """Resident set size of a process in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    """What one server achieved."""

    hold: dict[int, dict[str, float]] = field(default_factory=dict)
    relay: dict[str, float] = field(default_factory=dict)


class Server:
    """One server under test, started fresh for each phase: `copies` processes on one port."""

    def __init__(self, name: str, argv_for_port: list[str], log_dir: Path, copies: int = 1) -> None:
        self.name = name
        self.argv = argv_for_port
        self.log = log_dir / f"{name}.log"
        self.copies = copies
        self.procs: list[subprocess.Popen[bytes]] = []
        self.port = 0

    def __enter__(self) -> Server:
        self.port = free_port()
        argv = [a.replace("{port}", str(self.port)) for a in self.argv]
        with self.log.open("ab") as log:
            self.procs = [
                subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
                for _ in range(self.copies)
            ]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"{self.name} did not start; see {self.log}")
        time.sleep(1.0 + self.copies)  # let them all settle before the baseline sample
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    @property
    def pid(self) -> int:
        return self.procs[0].pid

    def rss(self) -> int:
        """RSS of all its processes, KiB."""
        return sum(rss_kb(proc.pid) for proc in self.procs)

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/peerjs"


class Redis:
    """A throwaway redis-server for the cluster phase."""

    def __init__(self, log_dir: Path) -> None:
        self.log = log_dir / "redis.log"
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Redis:
        argv = ["redis-server", "--port", str(self.port), "--save", "", "--appendonly", "no"]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"redis-server did not start; see {self.log}")

    def __exit__(self, *exc: object) -> None:
        assert self.proc is not None
        self.proc.terminate()
        self.proc.wait(10)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


class LoadGen:
    """The Node load generator, driven line by line."""

    def __init__(self, script: Path, *args: str) -> None:
        env = {**os.environ, "NODE_PATH": str(NODE_MODULES)}
        self.proc = subprocess.Popen(
            ["node", str(script), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )

    def read(self) -> dict[str, float]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"load generator exited with {self.proc.wait()}")
        return json.loads(line)

    def go(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def run_hold(
    server: Server, script: Path, levels: list[int], per_gen: int
) -> dict[int, dict[str, float]]:
    """Connect idle sockets up to each level, spread over generators of at most `per_gen`
    sockets each (one process may hold only so many files), each from its own loopback
    address; sample RSS after a short settle. A level that fails records how many were held."""
    out: dict[int, dict[str, float]] = {}
    base = server.rss()
    count = -(-max(levels) // per_gen)
    gens = [
        LoadGen(script, "hold", server.ws_url, ",".join(str(-(-n // count)) for n in levels),
                f"g{k}c", f"127.0.0.{k + 2}")
        for k in range(count)
    ]  # fmt: skip
    try:
        for level in levels:
            got = [gen.read() for gen in gens]
            held = int(sum(g["held"] for g in got))
            secs = max(g["secs"] for g in got)
            errors = [g["error"] for g in got if g.get("error")]
            time.sleep(2)
            rss = server.rss()
            out[level] = {"held": held, "secs": secs, "kb_per_socket": (rss - base) / held,
                          "rss": rss}  # fmt: skip
            print(
                f"  {server.name}: {held} of {level} sockets held, connected in {secs:.2f}s,"
                f" RSS {rss / 1024:.0f} MiB ({(rss - base) / held:.1f} KiB/socket)"
                + (f" FAILED: {errors[0]}" if errors else ""),
                flush=True,
            )
            if errors:
                break
            for gen in gens:
                gen.go()
    finally:
        for gen in gens:
            gen.close()
    return out


def run_relay(server: Server, script: Path, clients: int, secs: float) -> dict[str, float]:
    """Ring relay with `clients` sockets for `secs` seconds."""
    gen = LoadGen(script, "relay", server.ws_url, str(clients), str(secs), "290")
    try:
        gen.read()
        cpu0 = cpu_seconds(server.pid)
        gen.go()
        got = gen.read()
        cpu1 = cpu_seconds(server.pid)
        gen.go()
    finally:
        gen.close()
    # CPU covers warm-up and measurement (1 s + secs); spread over the messages of both.
    got["cpu_us_per_msg"] = (cpu1 - cpu0) * 1e6 / max(1.0, got["rate"] * (secs + 1))
    print(
        f"  {server.name}: {got['rate']:.0f} msg/s, p50 {got['p50']:.1f} ms,"
        f" p99 {got['p99']:.1f} ms, {got['cpu_us_per_msg']:.1f} µs CPU/msg,"
        f" errors {got['errors']:.0f}",
        flush=True,
    )
    return got


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1k/2k sockets, 3 s relay")
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--most", type=int, default=50_000, help="last level of idle sockets")
    args = parser.parse_args()
    levels = [1000, 2000] if args.quick else [1000, 5000, 10000, args.most]
    secs = 3.0 if args.quick else 10.0

    # Servers and generators inherit the soft open-file limit, raised as far as allowed.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 1_048_576 if hard == resource.RLIM_INFINITY else hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    print(f"open-file limit per process: soft {soft} -> {want} (hard {hard})", flush=True)
    per_gen = max(1000, min(15_000, want - 1000))

    peerjs_bin = NODE_MODULES / ".bin" / "peerjs"
    if not peerjs_bin.exists():
        sys.exit("pwa/node_modules is missing: run `make setup`")
    ours = [
        sys.executable, "-m", "peerwatch_registrar", "--host", "127.0.0.1", "--port", "{port}",
        "--alive-timeout", "3600", "--max-sockets", "100000", "--rate", "1000", "--burst", "1000",
        # one address (loopback) plays every client: lift the per-address limits
        "--ip-sockets", "100000", "--ip-registrations", "1e9", "--ip-rate", "1e9",
        "--ip-burst", "1000000000", "--ip-bytes", "1e12",
    ]  # fmt: skip
    reference = [
        str(peerjs_bin), "--host", "127.0.0.1", "--port", "{port}",
        "--alive_timeout", "3600000", "--concurrent_limit", "100000",
    ]  # fmt: skip
    results: dict[str, Result] = {}
    with tempfile.TemporaryDirectory(prefix="bench_registrar_") as tmp:
        tmpdir = Path(tmp)
        script = tmpdir / "loadgen.cjs"
        script.write_text(LOADGEN_JS)
        for name, argv in (("peerwatch", ours), ("reference", reference)):
            print(f"== {name}", flush=True)
            result = results[name] = Result()
            with Server(name, argv, tmpdir) as server:
                result.hold = run_hold(server, script, levels, per_gen)
            with Server(name, argv, tmpdir) as server:
                result.relay = run_relay(server, script, args.clients, secs)
        report(results, levels, args.clients)
        if not args.quick and shutil.which("redis-server"):
            run_cluster(ours, tmpdir, script, args.most, per_gen=per_gen, file_limit=want)


def run_cluster(
    ours: list[str], tmpdir: Path, script: Path, most: int, *, per_gen: int, file_limit: int
) -> None:
    """Past one process's open-file limit: registrars on one port (SO_REUSEPORT), each filled
    to about 4/5 of its limit, sharing a Redis, hold `most` idle sockets together."""
    nodes = -(-most // (file_limit * 4 // 5))
    print(f"\n== peerwatch, {nodes} nodes on one port sharing a Redis", flush=True)
    with Redis(tmpdir) as redis:
        argv = [*ours, "--reuse-port", "--redis-url", redis.url, "--redis-ttl", "60"]
        with Server(f"peerwatch x{nodes}", argv, tmpdir, copies=nodes) as server:
            run_hold(server, script, [most], per_gen)
            assert redis.proc is not None
            print(f"  redis-server RSS {rss_kb(redis.proc.pid) / 1024:.0f} MiB", flush=True)


def report(results: dict[str, Result], levels: list[int], clients: int) -> None:
    """Print the side-by-side table and ours/reference ratios."""
    ours, ref = results["peerwatch"], results["reference"]

    def ratio(a: float | None, b: float | None) -> str:
        return f"{a / b:.2f}x" if a and b else "n/a"

    print("\n== results (ratio = peerwatch / reference)")
    print(f"{'figure':<34}{'peerwatch':>14}{'reference':>14}{'ratio':>9}")
    for level in levels:
        a, b = ours.hold.get(level, {}), ref.hold.get(level, {})
        for key, label, unit in (
            ("held", "held", "n"),
            ("secs", "connect", "s"),
            ("kb_per_socket", "RSS/socket", "KiB"),
        ):
            print(
                f"{f'{level} sockets: {label} ({unit})':<34}"
                f"{a.get(key, float('nan')):>14.2f}{b.get(key, float('nan')):>14.2f}"
                f"{ratio(a.get(key), b.get(key)):>9}"
            )
    for key, label in (
        ("rate", "relay msg/s"),
        ("p50", "relay p50 latency (ms)"),
        ("p99", "relay p99 latency (ms)"),
        ("cpu_us_per_msg", "server CPU per msg (µs)"),
    ):
        a, b = ours.relay.get(key), ref.relay.get(key)
        print(f"{f'{clients} clients: {label}':<34}{a:>14.1f}{b:>14.1f}{ratio(a, b):>9}")


if __name__ == "__main__":
    main()
