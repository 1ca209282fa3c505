"""The local API against hostile clients: malformed input of every kind gets a 4xx JSON error
(never a 500 or a traceback), and connections that never finish a request are closed.

A real edge process (file camera, real models, ingress site on) with a short read timeout, and
raw sockets, since well-behaved clients cannot send what an attacker sends.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from peerwatch_edge.api.connections import MAX_WAITING_PER_ADDRESS
from tests.support import EdgeProcess, edge_config, start_edge

pytestmark = pytest.mark.slow

READ_TIMEOUT = 1.0
LIMIT = 30.0  # seconds a test waits for the edge to do something it should do in READ_TIMEOUT


def launch(tmp: Path, read_timeout: float) -> EdgeProcess:
    """An edge on the fixture clip with its ingress site (allowed from 127.0.0.1)."""
    pwa = tmp / "pwa"
    pwa.mkdir()
    (pwa / "index.html").write_text("<!doctype html><html><head></head></html>")
    return start_edge(
        edge_config(tmp / "data"),
        tmp,
        env={"PEERWATCH_READ_TIMEOUT": str(read_timeout)},
        ingress_allow="127.0.0.1",
        pwa_dir=pwa,
    )


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EdgeProcess]:
    started = launch(tmp_path_factory.mktemp("hostile"), READ_TIMEOUT)
    yield started
    started.stop()


# --- raw HTTP --------------------------------------------------------------------------------


def connect(port: int, source: str = "127.0.0.1") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=LIMIT, source_address=(source, 0))
    sock.settimeout(LIMIT)
    return sock


def read_response(sock: socket.socket) -> tuple[int, bytes]:
    response = http.client.HTTPResponse(sock)
    response.begin()
    return response.status, response.read()


def request(
    method: str, path: str, token: str | None = None, body: bytes = b"", **headers: str
) -> bytes:
    """A raw HTTP/1.1 request; header values are sent as Latin-1 bytes, as given."""
    lines = [f"{method} {path} HTTP/1.1", "Host: edge"]
    if token is not None:
        lines.append(f"Authorization: Bearer {token}")
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return "\r\n".join([*lines, "", ""]).encode("latin-1") + body


def exchange(port: int, raw: bytes) -> tuple[int, bytes]:
    with connect(port) as sock:
        sock.sendall(raw)
        return read_response(sock)


def is_closed(sock: socket.socket) -> bool:
    """Whether the edge closed the connection (without sending anything)."""
    sock.setblocking(False)
    try:
        data = sock.recv(4096)
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True
    finally:
        sock.settimeout(LIMIT)
    assert data == b"", data  # the edge sends no response to a request it never received
    return True


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + LIMIT
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not after {LIMIT} s"
        time.sleep(0.1)


# --- malformed input -------------------------------------------------------------------------

TOKEN = "<token>"
SDP_ASSERTS = "v=0\r\nm=video x\r\n"  # aiortc's parser asserts
SDP_STOPS = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=fmtp:97 x=1\r\n"  # StopIteration
DEEP_LIST = b"[" * 30_000 + b"]" * 30_000
DEEP_OBJECT = b'{"a":' * 10_000 + b"1" + b"}" * 10_000

CASES: dict[str, tuple[str, bytes, int]] = {
    "bearer token with a non-ASCII byte": (
        "api",
        b"GET /api/v1/info HTTP/1.1\r\nHost: e\r\nAuthorization: Bearer \xff\r\n\r\n",
        401,
    ),
    "WebSocket token with a non-ASCII character": (
        "api",
        request("GET", "/api/v1/ws?token=%C3%BF"),
        401,
    ),
    "limit ²": ("api", request("GET", "/api/v1/events?limit=%C2%B2", TOKEN), 400),
    "limit in Arabic-Indic digits": (
        "api",
        request("GET", "/api/v1/events?limit=%D9%A5", TOKEN),
        400,
    ),
    "fps in Arabic-Indic digits": (
        "api",
        request("GET", "/api/v1/cameras/cam1/stream.mjpeg?fps=%D9%A5", TOKEN),
        400,
    ),
    "JSON 60,000 deep (lists)": (
        "api",
        request("PATCH", "/api/v1/cameras/cam1", TOKEN, DEEP_LIST),
        400,
    ),
    "JSON 20,000 deep (objects)": (
        "api",
        request("PATCH", "/api/v1/cameras/cam1", TOKEN, DEEP_OBJECT),
        400,
    ),
    "pairing body 60,000 deep": ("api", request("POST", "/api/v1/pairing", TOKEN, DEEP_LIST), 400),
    "SDP aiortc asserts on": (
        "api",
        request(
            "POST",
            "/api/v1/cameras/cam1/webrtc",
            TOKEN,
            json.dumps({"type": "offer", "sdp": SDP_ASSERTS}).encode(),
        ),
        400,
    ),
    "SDP aiortc stops on": (
        "api",
        request(
            "POST",
            "/api/v1/cameras/cam1/webrtc",
            TOKEN,
            json.dumps({"type": "offer", "sdp": SDP_STOPS}).encode(),
        ),
        400,
    ),
    "WebSocket without upgrade": ("api", request("GET", "/api/v1/ws", TOKEN), 400),
    "header line without a colon": (
        "api",
        b"GET /api/v1/health HTTP/1.1\r\nHost: e\r\nno colon here\r\n\r\n",
        400,
    ),
    "TLS on the HTTP port": (
        "api",
        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + bytes(32),
        400,
    ),
    "ingress path with a NUL byte": ("ingress", request("GET", "/a%00b"), 404),
    "ingress file name too long": ("ingress", request("GET", "/" + "a" * 300), 404),
}


@pytest.mark.parametrize("case", CASES)
def test_malformed_input_gets_a_json_4xx(edge: EdgeProcess, case: str) -> None:
    site, raw, expected = CASES[case]
    raw = raw.replace(TOKEN.encode(), edge.token.encode())
    status, body = exchange(edge.port if site == "api" else edge.ingress_port, raw)
    assert b"Traceback" not in body
    assert status == expected, body
    assert set(json.loads(body)) == {"error", "message"}, body


# --- read timeouts ---------------------------------------------------------------------------


def test_connections_that_never_finish_their_headers_are_closed(edge: EdgeProcess) -> None:
    half = request("GET", "/api/v1/health").removesuffix(b"\r\n")  # the last empty line missing
    silent = [connect(edge.port) for _ in range(10)]
    halves = [connect(edge.port) for _ in range(MAX_WAITING_PER_ADDRESS - 10)]
    for sock in halves:
        sock.sendall(half)
    try:
        wait_until(lambda: all(is_closed(sock) for sock in silent + halves), "all closed")
    finally:
        for sock in silent + halves:
            sock.close()
    assert exchange(edge.port, request("GET", "/api/v1/health"))[0] == 200


def test_keep_alive_connections_wait_but_a_half_sent_next_request_is_closed(
    edge: EdgeProcess,
) -> None:
    health = request("GET", "/api/v1/health")
    with connect(edge.port) as idle, connect(edge.port) as slow:
        for sock in (idle, slow):
            sock.sendall(health)
            assert read_response(sock)[0] == 200
        slow.sendall(health[:20])  # the next request starts and stops
        wait_until(lambda: is_closed(slow), "the half-sent request closed")
        assert not is_closed(idle)  # the idle one waits for aiohttp's keep-alive timeout
        idle.sendall(health)
        assert read_response(idle)[0] == 200


def test_a_body_that_stops_gets_408_and_the_connection_closes(edge: EdgeProcess) -> None:
    head = request("PATCH", "/api/v1/cameras/cam1", edge.token, b"x" * 100)
    with connect(edge.port) as sock:
        sock.sendall(head[: -100 + 10])  # the headers and 10 of 100 body bytes
        status, body = read_response(sock)
        assert status == 408, body
        assert json.loads(body)["error"] == "request_timeout"
        wait_until(lambda: is_closed(sock), "closed after the 408")


@pytest.fixture
def patient_edge(tmp_path: Path) -> Iterator[EdgeProcess]:
    """An edge whose read timeout outlasts the test, so only the per-address cap closes."""
    started = launch(tmp_path, 600)
    yield started
    started.stop()


def test_one_address_can_hold_only_so_many_waiting_connections(patient_edge: EdgeProcess) -> None:
    port = patient_edge.port
    extra = 8
    with contextlib.ExitStack() as stack:
        waiting = [
            stack.enter_context(connect(port, "127.0.0.3"))
            for _ in range(MAX_WAITING_PER_ADDRESS + extra)
        ]
        wait_until(lambda: sum(map(is_closed, waiting)) >= extra, "the extra ones closed")
        assert [is_closed(sock) for sock in waiting[:MAX_WAITING_PER_ADDRESS]] == [
            False
        ] * MAX_WAITING_PER_ADDRESS
        with connect(port, "127.0.0.4") as other:  # another address is served
            other.sendall(request("GET", "/api/v1/health"))
            assert read_response(other)[0] == 200
        waiting[0].sendall(request("GET", "/api/v1/health"))  # one of them completes
        assert read_response(waiting[0])[0] == 200

        def served() -> bool:
            with connect(port, "127.0.0.3") as sock:
                sock.sendall(request("GET", "/api/v1/health"))
                with contextlib.suppress(http.client.RemoteDisconnected, ConnectionError):
                    return read_response(sock)[0] == 200
            return False

        wait_until(served, "a new connection of 127.0.0.3 served")
