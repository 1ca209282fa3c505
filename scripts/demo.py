"""The demo on embedded defaults: registrar + edge on the sample video + the PWA, on this machine.

Starts the registrar (serving the PWA build) and an edge whose one camera plays
`../shared/fixtures/video/test2-cam-person1.mkv` in a loop, opens a pairing window, and prints
the URL to open and the pairing code. The parts' logs go to `demo-data/demo.log`; the terminal
keeps the banner and one line per detection. Enter (or `scripts/demo.py --pair` from another
terminal) opens a new pairing window and prints its code. Ctrl-C stops everything. Data
(events, snapshots, keys) is kept in `demo-data/`, so a paired browser stays paired across runs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("PEERWATCH_SHARED", REPO.parent / "shared"))


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """Wait until `url` answers 200, failing when the process exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"demo: {proc.args[2]} exited with {proc.returncode}")  # type: ignore[index]
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=1) as resp:  # noqa: S310
            if resp.status == 200:
                return
        time.sleep(0.2)
    sys.exit(f"demo: {url} did not answer within {timeout:.0f}s")


def port_free(host: str, port: int) -> bool:
    """Tell whether host:port can be bound."""
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def write_config(data_dir: Path, registrar_url: str, api_host: str, api_port: int) -> Path:
    """Write the demo's edge config (YAML is a superset of JSON)."""
    config = {
        "data_dir": str(data_dir),
        "models_dir": str(SHARED / "models"),
        "api": {"host": api_host, "port": api_port},
        "registrar": {"url": registrar_url, "key": "peerjs"},
        "ice_servers": [],
        "retention": {"days": 7, "max_gb": 1},
        "cameras": [
            {
                "id": "front_door",
                "name": "Front door",
                "source": str(SHARED / "fixtures" / "video" / "test2-cam-person1.mkv"),
                "fps": 5,
                "detect": ["object", "face", "fall"],
                "objects": {"labels": ["person", "dog", "cat"], "min_score": 0.6},
            }
        ],
    }
    path = data_dir / "edge.yaml"
    path.write_text(json.dumps(config, indent=2))
    return path


def open_pairing(api: str, token: str) -> dict[str, str]:
    """Open a pairing window on the edge; return its code and expiry."""
    request = urllib.request.Request(  # noqa: S310
        f"{api}/api/v1/pairing",
        data=b"{}",
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as resp:  # noqa: S310
        return json.loads(resp.read())  # type: ignore[no-any-return]


def api_get(api: str, token: str, path: str) -> dict[str, Any]:
    """GET a local API path with the token."""
    request = urllib.request.Request(  # noqa: S310
        f"{api}/api/v1{path}", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=5) as resp:  # noqa: S310
        return json.loads(resp.read())  # type: ignore[no-any-return]


def print_pairing(pairing: dict[str, str]) -> None:
    """Show a pairing code in the terminal."""
    until = pairing["expires_at"][11:19]
    print(f"  Pairing code:      {pairing['code']}  (valid until {until} UTC)", flush=True)


def describe(event: dict[str, Any], cameras: dict[str, str]) -> str:
    """One short terminal line for a detection: time, what, where."""
    where = cameras.get(event["camera"], event["camera"])
    face = " · face seen" if event.get("face") else ""
    what, score = event["label"].capitalize(), round(event["score"] * 100)
    return f"  {event['started_at'][11:19]}  {what} · {where}{face}  {score}%"


def print_detections(api: str, token: str, since: str) -> None:
    """Print one line per event started from `since` (ISO UTC) on, polling the local API each
    second (a daemon thread)."""
    seen: set[str] = set()
    while True:
        with contextlib.suppress(OSError, ValueError):
            events = api_get(api, token, "/events?limit=20")["events"]
            fresh = [e for e in reversed(events) if e["started_at"] >= since]
            fresh = [e for e in fresh if e["id"] not in seen]
            if fresh:
                cameras = {c["id"]: c["name"] for c in api_get(api, token, "/cameras")["cameras"]}
                for event in fresh:
                    print(describe(event, cameras), flush=True)
            seen |= {e["id"] for e in fresh}
        time.sleep(1.0)


def pair_on_enter(api: str, token: str) -> None:
    """Each Enter in the terminal opens a new pairing window and prints its code."""
    for _line in sys.stdin:
        try:
            print_pairing(open_pairing(api, token))
        except OSError as err:
            print(f"  demo: could not open a pairing window: {err}", flush=True)


def pair_running(api: str, data_dir: Path) -> None:
    """`--pair`: open a new pairing window on the running demo and print its code."""
    try:
        token = (data_dir / "api_token").read_text().strip()
        print_pairing(open_pairing(api, token))
    except OSError as err:
        sys.exit(f"demo: is the demo running? ({api}: {err})")


def main() -> None:
    """Run the demo until Ctrl-C."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to serve on (0.0.0.0: LAN)")
    parser.add_argument("--registrar-port", type=int, default=9000)
    parser.add_argument("--api-port", type=int, default=8778)
    parser.add_argument("--data-dir", type=Path, default=REPO / "demo-data")
    parser.add_argument(
        "--pair", action="store_true", help="print a new pairing code of the running demo"
    )
    args = parser.parse_args()
    shown = "127.0.0.1" if args.host == "0.0.0.0" else args.host
    api_url = f"http://{shown}:{args.api_port}"
    if args.pair:
        pair_running(api_url, args.data_dir)
        return

    if not (SHARED / "models").is_dir():
        sys.exit(f"demo: models not found in {SHARED / 'models'} (set PEERWATCH_SHARED)")
    pwa_dist = REPO / "pwa" / "dist"
    if not (pwa_dist / "index.html").is_file():
        sys.exit("demo: the PWA is not built (run `make setup`)")
    for port in (args.registrar_port, args.api_port):
        if not port_free(args.host, port):
            sys.exit(f"demo: port {port} is in use (see --registrar-port, --api-port)")

    args.data_dir.mkdir(parents=True, exist_ok=True)
    log_path = args.data_dir / "demo.log"
    with log_path.open("ab") as log:
        run(args, shown, log)


def start_parts(
    args: argparse.Namespace, shown: str, log: BinaryIO
) -> list[subprocess.Popen[bytes]]:
    """Start the registrar, then the edge, their output going to `log`."""
    registrar_url = f"http://{shown}:{args.registrar_port}"
    config = write_config(args.data_dir, registrar_url, args.host, args.api_port)
    python = sys.executable
    registrar = [python, "-m", "peerwatch_registrar", "--host", args.host]
    registrar += ["--port", str(args.registrar_port), "--static", str(REPO / "pwa" / "dist")]
    procs = [subprocess.Popen(registrar, stdout=log, stderr=subprocess.STDOUT)]
    wait_http(f"{registrar_url}/health", procs[0])
    procs.append(
        subprocess.Popen(
            [python, "-m", "peerwatch_edge", "--config", str(config)],
            env={**os.environ, "PEERWATCH_NAME": "Peerwatch demo"},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    )
    return procs


def run(args: argparse.Namespace, shown: str, log: BinaryIO) -> None:
    """Start the parts, show the banner, then detections until Ctrl-C or a part exits."""
    api_url = f"http://{shown}:{args.api_port}"
    since = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    procs = start_parts(args, shown, log)
    try:
        wait_http(f"{api_url}/api/v1/health", procs[1])
        token = (args.data_dir / "api_token").read_text().strip()
        print(
            "\n  Peerwatch demo is running.\n"
            f"  Open the app:      http://{shown}:{args.registrar_port}/",
            flush=True,
        )
        print_pairing(open_pairing(api_url, token))
        print(
            f"  Edge local API:    {api_url}/api/v1/info  (Authorization: Bearer {token})\n"
            f"  Data:              {args.data_dir}\n"
            f"  Logs:              {log.name}\n"
            "  Enter: a new pairing code. Ctrl-C stops it.\n"
            "\n  Detections:",
            flush=True,
        )
        threading.Thread(target=print_detections, args=(api_url, token, since), daemon=True).start()
        threading.Thread(target=pair_on_enter, args=(api_url, token), daemon=True).start()
        while all(proc.poll() is None for proc in procs):
            time.sleep(0.5)
        print(f"demo: a part exited; stopping (see {log.name})", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in reversed(procs):
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _interrupt)
    main()
