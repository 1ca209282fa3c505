"""Test plumbing shared by every part: shared data paths, free ports, real server processes (a
real edge among them) and polling waits."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, overload

import yaml

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("PEERWATCH_SHARED", REPO.parent / "shared"))
MODELS_DIR = SHARED / "models"
FIXTURES_DIR = SHARED / "fixtures"
IMAGES_DIR = FIXTURES_DIR / "images"
VIDEO_PATH = FIXTURES_DIR / "video" / "test2-cam-person1.mkv"
PYTHON = sys.executable


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """Tell whether something accepts TCP connections on host:port."""
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


class ServerProcess:
    """A real server started as a child process on 127.0.0.1, with its output kept in a log file.

    Ready when `port` accepts connections (and, if given, `health_url` answers 200).
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        port: int,
        log_path: Path,
        health_url: str | None = None,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.argv = list(argv)
        self.port = port
        self.log_path = log_path
        self.health_url = health_url
        self.env = {**os.environ, **(env or {})}
        self.cwd = cwd
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> ServerProcess:
        """Start the process and wait until it serves."""
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            self.argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=self.env,
            cwd=self.cwd,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                msg = f"{self.argv[0]} exited with {self.proc.returncode}:\n{self.log()}"
                raise RuntimeError(msg)
            if port_open(self.port) and self._healthy():
                return self
            time.sleep(0.05)
        self.stop()
        msg = f"{self.argv[0]} not ready on port {self.port} after {timeout}s:\n{self.log()}"
        raise TimeoutError(msg)

    def _healthy(self) -> bool:
        if self.health_url is None:
            return True
        try:
            with urllib.request.urlopen(self.health_url, timeout=1) as resp:  # noqa: S310
                return bool(resp.status == 200)
        except OSError:
            return False

    def log(self) -> str:
        """Return what the process printed so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    @property
    def running(self) -> bool:
        """Tell whether the process is alive."""
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """Kill the process group with SIGKILL, as a crash or a power cut would."""
        if self.running:
            assert self.proc is not None
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)

    def stop(self, timeout: float = 10.0) -> int | None:
        """Stop the process group gracefully (SIGTERM), then SIGKILL; return the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wait_for[T](condition: Callable[[], T | None], what: str, limit: float = 30.0) -> T:
    """Poll `condition` until it returns something truthy and return that; blocking.

    Raise TimeoutError naming `what` when it has not held after `limit` seconds.
    """
    deadline = time.monotonic() + limit
    while not (result := condition()):
        if time.monotonic() > deadline:
            msg = f"{what}: not after {limit} s"
            raise TimeoutError(msg)
        time.sleep(0.1)
    return result


@overload
async def wait_for_async[T](
    condition: Callable[[], Awaitable[T | None]], what: str, limit: float = 30.0
) -> T: ...
@overload
async def wait_for_async[T](
    condition: Callable[[], T | None], what: str, limit: float = 30.0
) -> T: ...
async def wait_for_async(condition: Callable[[], Any], what: str, limit: float = 30.0) -> Any:
    """`wait_for` for the event loop: `condition` may be a plain or a coroutine function."""
    deadline = time.monotonic() + limit
    while True:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            msg = f"{what}: not after {limit} s"
            raise TimeoutError(msg)
        await asyncio.sleep(0.1)


def camera_config(camera_id: str = "cam1", **settings: Any) -> dict[str, Any]:
    """A file camera looping the fixture video at 5 fps; `settings` add or replace keys."""
    return {
        "id": camera_id,
        "name": "Camera one",
        "source": str(VIDEO_PATH),
        "fps": 5,
        **settings,
    }


def edge_config(data_dir: Path, *cameras: dict[str, Any], **settings: Any) -> dict[str, Any]:
    """An edge's YAML config: the real models, the API on a free loopback port, `cameras`
    (one `camera_config()` when none is given); `settings` add or replace top-level keys."""
    return {
        "data_dir": str(data_dir),
        "models_dir": str(MODELS_DIR),
        "api": {"host": "127.0.0.1", "port": free_port()},
        "cameras": list(cameras) or [camera_config()],
        **settings,
    }


@dataclass
class EdgeProcess:
    """A running edge process on loopback: its API's port and token, its data dir."""

    server: ServerProcess
    port: int
    data_dir: Path
    token: str
    ingress_port: int | None = None

    @property
    def url(self) -> str:
        """The local API's origin, http://127.0.0.1:port."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def ingress_url(self) -> str:
        """The ingress site's origin (only when started with `ingress_allow`)."""
        assert self.ingress_port is not None, "started without ingress"
        return f"http://127.0.0.1:{self.ingress_port}"

    @property
    def auth(self) -> dict[str, str]:
        """The headers that carry the API token."""
        return {"Authorization": f"Bearer {self.token}"}

    @classmethod
    def launch(
        cls,
        argv: Sequence[str],
        *,
        port: int,
        data_dir: Path,
        log_path: Path,
        env: dict[str, str] | None = None,
        ingress_port: int | None = None,
        timeout: float = 60.0,
    ) -> EdgeProcess:
        """Run an edge command whose API listens on `port`; wait for its health route."""
        health = f"http://127.0.0.1:{port}/api/v1/health"
        server = ServerProcess(argv, port=port, log_path=log_path, health_url=health, env=env)
        server.start(timeout)
        token = (data_dir / "api_token").read_text().strip()
        return cls(server, port, data_dir, token, ingress_port)

    def call(self, method: str, path: str) -> Any:
        """Call `/api/v1{path}` with the token, blocking; return the parsed JSON answer."""
        request = urllib.request.Request(  # noqa: S310
            f"{self.url}/api/v1{path}", method=method, headers=self.auth
        )
        with urllib.request.urlopen(request, timeout=10) as resp:  # noqa: S310
            return json.loads(resp.read() or b"null")

    def log(self) -> str:
        """What the edge logged so far."""
        return self.server.log()

    def stop(self, *, clean: bool = True) -> int | None:
        """Stop the edge (SIGTERM); with `clean`, assert it exited 0 and logged no traceback."""
        code = self.server.stop()
        if clean:
            assert code == 0, self.log()
            assert "Traceback" not in self.log(), self.log()
        return code


def start_edge(
    config: dict[str, Any],
    work_dir: Path,
    *,
    name: str = "edge",
    env: dict[str, str] | None = None,
    args: Sequence[str] = (),
    ingress_allow: str | None = None,
    pwa_dir: Path | None = None,
    timeout: float = 60.0,
) -> EdgeProcess:
    """Write `config` to `work_dir/{name}.yaml`, start the edge on it and wait for its health route.

    With `ingress_allow`, the ingress site also listens on a free loopback port, accepting that
    address as Home Assistant's proxy and serving `pwa_dir`. Blocking: from async code, call it
    through `asyncio.to_thread`.
    """
    work_dir.mkdir(parents=True, exist_ok=True)
    path = work_dir / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    env = dict(env or {})
    ingress_port = None
    if ingress_allow is not None:
        ingress_port = free_port()
        env |= {
            "PEERWATCH_INGRESS_PORT": str(ingress_port),
            "PEERWATCH_INGRESS_HOST": "127.0.0.1",
            "PEERWATCH_INGRESS_ALLOW": ingress_allow,
        }
        if pwa_dir is not None:
            env["PEERWATCH_PWA_DIR"] = str(pwa_dir)
    return EdgeProcess.launch(
        [PYTHON, "-m", "peerwatch_edge", "--config", str(path), *args],
        port=int(config["api"]["port"]),
        data_dir=Path(config["data_dir"]),
        log_path=work_dir / f"{name}.log",
        env=env,
        ingress_port=ingress_port,
        timeout=timeout,
    )
