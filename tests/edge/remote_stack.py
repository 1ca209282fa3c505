"""A real registrar (ours or the reference npm `peer`) and a real edge process registered with it,
for tests/edge/test_remote.py and bench/bench_remote.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from tests.edge.remote_client import EdgeLink, RegistrarClient
from tests.pwa.stack import SRC
from tests.support import (
    PYTHON,
    REPO,
    EdgeProcess,
    ServerProcess,
    camera_config,
    edge_config,
    free_port,
    start_edge,
    wait_for,
    wait_for_async,
)


@dataclass
class Stack:
    """A registrar and an edge registered with it."""

    registrar_url: str
    peer_id: str
    edge: EdgeProcess
    registrar: ServerProcess


def our_registrar(tmp: Path, port: int) -> ServerProcess:
    argv = [PYTHON, "-m", "peerwatch_registrar", "--host", "127.0.0.1", "--port", str(port)]
    return ServerProcess(argv, port=port, log_path=tmp / "registrar.log").start()


def npm_peer_server(tmp: Path, port: int) -> ServerProcess:
    peerjs = REPO / "pwa" / "node_modules" / ".bin" / "peerjs"
    argv = [str(peerjs), "--host", "127.0.0.1", "--port", str(port)]
    return ServerProcess(argv, port=port, log_path=tmp / "peerjs.log").start()


def wait_registrar_status(edge: EdgeProcess, connected: bool) -> str:
    """Poll `/info` until the edge is (or is no longer) registered; return its peer id."""

    def status() -> str | None:
        info = edge.call("GET", "/info")
        return str(info["peer_id"]) if (info["registrar"] == "connected") == connected else None

    return wait_for(status, f"registrar {'connected' if connected else 'gone'}", 60)


def make_stack(tmp: Path, npm: bool = False, **camera_settings: Any) -> Stack:
    """Our registrar (or npm `peer`) and an edge on the fixture clip registered with it; the
    camera's config takes `camera_settings` too."""
    port = free_port()
    registrar = (npm_peer_server if npm else our_registrar)(tmp, port)
    registrar_url = f"http://127.0.0.1:{port}"
    camera = camera_config(end_after=1, motion={"interval": 0.5}, **camera_settings)
    config = edge_config(tmp / "data", camera, registrar={"url": registrar_url})
    with ExitStack() as undo:  # stops what started if a later step fails
        undo.callback(registrar.stop)
        edge = start_edge(config, tmp)
        undo.callback(edge.stop, clean=False)
        peer_id = wait_registrar_status(edge, connected=True)
        undo.pop_all()
    return Stack(registrar_url, peer_id, edge, registrar)


def stop_stack(stack: Stack) -> None:
    """Stop both; the edge must exit cleanly."""
    try:
        stack.edge.stop()
    finally:
        stack.registrar.stop()


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

    async def ended() -> str | None:
        async with http.get("/api/v1/events") as resp:
            events = (await resp.json())["events"]
        done = [e["id"] for e in events if e["has_snapshot"] and e["ended_at"] is not None]
        return str(done[0]) if done else None

    return await wait_for_async(ended, "an ended event with a snapshot", 60)


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
