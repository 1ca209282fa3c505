"""A real registrar (ours or the reference npm `peer`) and a real edge process registered with it,
for tests/edge/test_remote.py and bench/bench_remote.py.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from tests.edge.remote_client import EdgeLink, RegistrarClient
from tests.pwa.stack import SRC
from tests.support import PYTHON, REPO, ServerProcess, free_port


@dataclass
class Stack:
    """A registrar and an edge registered with it."""

    registrar_url: str
    api_url: str
    token: str
    data_dir: Path
    peer_id: str
    edge: ServerProcess
    registrar: ServerProcess

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def our_registrar(tmp: Path, port: int) -> ServerProcess:
    argv = [PYTHON, "-m", "peerwatch_registrar", "--host", "127.0.0.1", "--port", str(port)]
    return ServerProcess(argv, port=port, log_path=tmp / "registrar.log").start()


def npm_peer_server(tmp: Path, port: int) -> ServerProcess:
    peerjs = REPO / "pwa" / "node_modules" / ".bin" / "peerjs"
    argv = [str(peerjs), "--host", "127.0.0.1", "--port", str(port)]
    return ServerProcess(argv, port=port, log_path=tmp / "peerjs.log").start()


def start_edge(tmp: Path, models_dir: Path, video_path: Path, registrar_url: str) -> ServerProcess:
    port = free_port()
    config = {
        "data_dir": str(tmp / "data"),
        "models_dir": str(models_dir),
        "api": {"host": "127.0.0.1", "port": port},
        "registrar": {"url": registrar_url},
        "cameras": [
            {
                "id": "cam1",
                "name": "Camera one",
                "source": str(video_path),
                "fps": 5,
                "end_after": 1,
                "motion": {"interval": 0.5},
            }
        ],
    }
    (tmp / "edge.yaml").write_text(yaml.safe_dump(config))
    server = ServerProcess(
        [PYTHON, "-m", "peerwatch_edge", "--config", str(tmp / "edge.yaml")],
        port=port,
        log_path=tmp / "edge.log",
        health_url=f"http://127.0.0.1:{port}/api/v1/health",
    )
    return server.start(timeout=60)


def edge_info(api_url: str, token: str) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310
        f"{api_url}/api/v1/info", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=2) as resp:  # noqa: S310
        return dict(json.loads(resp.read()))


def wait_registrar_status(api_url: str, token: str, connected: bool, timeout: float = 20.0) -> str:
    """Poll `/info` until the edge is (or is no longer) registered; return its peer id."""
    deadline = time.monotonic() + timeout
    info: dict[str, Any] = {}
    while time.monotonic() < deadline:
        info = edge_info(api_url, token)
        if (info["registrar"] == "connected") == connected:
            return str(info["peer_id"])
        time.sleep(0.1)
    msg = f"the edge's registrar status stayed: {info}"
    raise TimeoutError(msg)


def make_stack(tmp: Path, models_dir: Path, video_path: Path, npm: bool = False) -> Stack:
    port = free_port()
    registrar = (npm_peer_server if npm else our_registrar)(tmp, port)
    registrar_url = f"http://127.0.0.1:{port}"
    try:
        edge = start_edge(tmp, models_dir, video_path, registrar_url)
    except BaseException:
        registrar.stop()
        raise
    api_url = f"http://127.0.0.1:{edge.port}"
    token = (tmp / "data" / "api_token").read_text().strip()
    return Stack(
        registrar_url,
        api_url,
        token,
        tmp / "data",
        wait_registrar_status(api_url, token, connected=True),
        edge,
        registrar,
    )


def stop_stack(stack: Stack) -> None:
    code = stack.edge.stop()
    stack.registrar.stop()
    log = stack.edge.log()
    assert code == 0, log
    assert "Traceback" not in log, log


async def pairing_code(http: aiohttp.ClientSession) -> str:
    async with http.post("/api/v1/pairing") as resp:
        assert resp.status == 201
        return str((await resp.json())["code"])


async def paired_link(
    http: aiohttp.ClientSession, registrar: RegistrarClient, peer_id: str
) -> EdgeLink:
    code = await pairing_code(http)
    link = await EdgeLink.open(registrar, peer_id)
    reply = await link.pair(code)
    assert reply["type"] == "paired", reply
    return link


async def event_with_snapshot(http: aiohttp.ClientSession) -> str:
    """The id of an ended event with a snapshot (the clip shows a person); its file is final."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        async with http.get("/api/v1/events") as resp:
            events = (await resp.json())["events"]
        for event in events:
            if event["has_snapshot"] and event["ended_at"] is not None:
                return str(event["id"])
        await asyncio.sleep(0.3)
    msg = "no event with a snapshot"
    raise TimeoutError(msg)


async def relayed_bytes(url: str) -> float:
    async with aiohttp.ClientSession() as session, session.get(f"{url}/metrics") as resp:
        text = await resp.text()
    match = re.search(r"^peerwatch_registrar_bytes_relayed_total (\S+)$", text, re.M)
    assert match, text
    return float(match.group(1))


@contextmanager
def peerjs_page(tmp: Path) -> Iterator[str]:
    """Serve a blank page with npm peerjs 1.5.5 (global `peerjs`) and the PWA's `lib/` modules;
    yield its URL."""
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
        yield f"http://127.0.0.1:{port}/index.html"
    finally:
        server.stop()
