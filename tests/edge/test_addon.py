"""The Home Assistant add-on: manifest, options → edge config, run entry, discovery, Dockerfile.

The Supervisor cannot run here: its options validation is re-implemented below for the schema
types the manifest uses, and its discovery endpoint is a stand-in aiohttp server in the test.
Everything else is real: the run entry runs as a process with the real models and footage.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import socket
import subprocess
import tomllib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from aiohttp import web
from PIL import Image

from peerwatch_edge import __version__
from peerwatch_edge.addon.options import (
    API_PORT,
    load_options,
    options_to_raw,
    place_snapshots,
)
from peerwatch_edge.config import ConfigError
from tests.support import MODELS_DIR, PYTHON, REPO, EdgeProcess, free_port, wait_for_async

ADDON = REPO / "addon"
MANIFEST = yaml.safe_load((ADDON / "config.yaml").read_text())


# --- a validator for the Supervisor's option schema language (the subset used) -------------

_ELEMENT = re.compile(
    r"^(?P<type>str|bool|int|float|url|password|port|match|list)"
    r"(?:\((?P<args>.*)\))?(?P<optional>\?)?$"
)


def _check_value(schema: str, value: Any, where: str) -> list[str]:
    found = _ELEMENT.match(schema)
    if found is None:
        return [f"{where}: unknown schema type {schema!r}"]
    kind, args = found["type"], found["args"]
    if kind in ("str", "password"):
        ok = isinstance(value, str)
    elif kind == "bool":
        ok = isinstance(value, bool)
    elif kind in ("int", "port"):
        ok = isinstance(value, int) and not isinstance(value, bool)
        low, high = (1, 65535) if kind == "port" else (None, None)
        if args:
            low, high = (int(a) if a else None for a in args.split(","))
        ok = ok and (low is None or value >= low) and (high is None or value <= high)
    elif kind == "float":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if ok and args:
            low_f, high_f = (float(a) if a else None for a in args.split(","))
            ok = (low_f is None or value >= low_f) and (high_f is None or value <= high_f)
    elif kind == "url":
        ok = isinstance(value, str) and re.match(r"^[a-z][a-z0-9+.-]*://\S+$", value) is not None
    elif kind == "match":
        ok = isinstance(value, str) and re.fullmatch(args or "", value) is not None
    else:  # list(a|b|c)
        ok = value in (args or "").split("|")
    return [] if ok else [f"{where}: {value!r} is not {schema}"]


def validate_options(schema: Any, options: Any, where: str = "") -> list[str]:
    """Check options against a Supervisor schema; return the problems."""
    if isinstance(schema, str):
        return _check_value(schema, options, where)
    if isinstance(schema, list):
        if not isinstance(options, list):
            return [f"{where}: must be a list"]
        return [
            problem
            for index, item in enumerate(options)
            for problem in validate_options(schema[0], item, f"{where}[{index}]")
        ]
    if not isinstance(options, dict):
        return [f"{where}: must be a mapping"]

    def name(key: str) -> str:
        return f"{where}.{key}" if where else key

    problems = [f"{name(key)}: not in the schema" for key in options if key not in schema]
    for key, item_schema in schema.items():
        if key in options:
            problems += validate_options(item_schema, options[key], name(key))
        elif isinstance(item_schema, str) and not item_schema.endswith("?"):
            problems.append(f"{name(key)}: required")
    return problems


def test_the_validator_catches_bad_options() -> None:
    schema = MANIFEST["schema"]
    bad = {
        **MANIFEST["options"],
        "log_level": "loud",
        "retention_days": 0,
        "registrar_url": "not a url",
        "surprise": 1,
        "cameras": [{"id": "Bad Id", "source": "x", "fps": 99, "detect": "object,car"}],
    }
    problems = validate_options(schema, bad)
    for fragment in (
        "log_level",
        "retention_days",
        "registrar_url",
        "surprise",
        "cameras[0].id",
        "cameras[0].fps",
        "cameras[0].detect",
    ):
        assert any(p.startswith(fragment) for p in problems), (fragment, problems)


# --- manifest ----------------------------------------------------------------------------------


def test_manifest_options_validate_against_their_own_schema() -> None:
    assert validate_options(MANIFEST["schema"], MANIFEST["options"]) == []


def test_manifest_keys() -> None:
    pyproject = tomllib.loads((ADDON / "pyproject.toml").read_text())
    assert MANIFEST["version"] == __version__ == pyproject["project"]["version"]
    assert MANIFEST["slug"] == "peerwatch"
    assert MANIFEST["discovery"] == ["peerwatch"]
    assert MANIFEST["init"] is False
    assert MANIFEST["ingress"] is True
    # The add-on linter's rules: no keys set to their defaults, no obsolete watchdog.
    for key in ("boot", "startup", "ingress_port", "watchdog"):
        assert key not in MANIFEST, key
    assert set(MANIFEST["arch"]) == {"amd64", "aarch64"}
    assert MANIFEST["ports"] == {"8778/tcp": 8778}
    assert {"type": "media", "read_only": False} in MANIFEST["map"]
    assert not (ADDON / "build.yaml").exists(), "build arguments belong in the Dockerfile"
    translations = yaml.safe_load((ADDON / "translations" / "en.yaml").read_text())
    assert set(translations["configuration"]) == set(MANIFEST["schema"])
    assert set(translations["network"]) == set(MANIFEST["ports"])


def test_icon_and_logo() -> None:
    assert Image.open(ADDON / "icon.png").size == (128, 128)
    width, height = Image.open(ADDON / "logo.png").size
    assert 200 <= width <= 300
    assert 80 <= height <= 120


def test_dockerfile_is_consistent_with_the_folder() -> None:
    dockerfile = (ADDON / "Dockerfile").read_text()
    assert re.search(r"^ARG BUILD_ARCH=amd64$", dockerfile, re.M)
    assert re.search(
        r"^ARG BUILD_FROM=ghcr\.io/home-assistant/\$\{BUILD_ARCH\}-base-debian:bookworm$",
        dockerfile,
        re.M,
    )
    health = re.search(r"^HEALTHCHECK .*\n\s+CMD curl -fsS (\S+)", dockerfile, re.M)
    assert health
    assert health[1] == f"http://127.0.0.1:{API_PORT}/api/v1/health"
    assert re.search(r"^FROM \$\{?BUILD_FROM\}?$", dockerfile, re.M)
    for source in re.findall(r"^COPY (?!--from=)(\S+) ", dockerfile, re.M):
        assert (ADDON / source).exists(), source
    command = json.loads(re.search(r"^CMD (.+)$", dockerfile, re.M)[1])  # type: ignore[index]
    script = ADDON / "rootfs" / command[0].lstrip("/")
    mode = subprocess.run(
        ["git", "ls-files", "-s", str(script.relative_to(REPO))],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert mode.startswith("100755"), "the run script must be committed executable"
    assert "python3 -m peerwatch_edge.addon" in script.read_text()
    assert "sha256sum --strict -c /opt/peerwatch/models.sha256" in dockerfile


def test_ingress_pwa_in_the_image_is_built_from_pwa_src(tmp_path: Path) -> None:
    """The Supervisor builds from addon/ alone, so the PWA is committed there (`make addon-pwa`);
    it must be exactly what pwa/src builds to today."""
    committed = ADDON / "rootfs" / "opt" / "peerwatch" / "pwa"
    subprocess.run(
        ["node", "build.mjs", "--out", str(tmp_path), "--no-sourcemap"],
        cwd=REPO / "pwa",
        check=True,
        capture_output=True,
    )
    built = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert "index.html" in built
    assert "app.js" in built
    assert {p.name: p.read_bytes() for p in committed.iterdir()} == built, (
        "addon/rootfs/opt/peerwatch/pwa is stale: run `make addon-pwa`"
    )


def test_model_checksums_match_the_real_models() -> None:
    lines = (ADDON / "models.sha256").read_text().splitlines()
    dockerfile = (ADDON / "Dockerfile").read_text()
    names = set()
    for line in lines:
        digest, name = line.split("  ")
        assert hashlib.sha256((MODELS_DIR / name).read_bytes()).hexdigest() == digest, name
        assert name in dockerfile, f"the Dockerfile does not fetch {name}"
        names.add(name)
    assert {p.name for p in MODELS_DIR.iterdir() if p.suffix in (".tflite", ".txt")} == names


# --- options → edge config ----------------------------------------------------------------------


def test_options_map_to_a_valid_edge_config(tmp_path: Path) -> None:
    options = {
        **MANIFEST["options"],
        "registrar_url": "https://registrar.example",
        "registrar_key": "pw",
        "ice_servers": [{"urls": "turn:turn.example:3478", "username": "u", "credential": "c"}],
    }
    path = tmp_path / "options.json"
    path.write_text(json.dumps(options))
    config, raw = load_options(path, tmp_path / "data", MODELS_DIR, 9000)
    assert raw == options
    assert config.data_dir == tmp_path / "data"
    assert config.models_dir == MODELS_DIR.resolve()  # the config resolves its paths
    assert config.api.port == 9000
    assert config.api.host == "0.0.0.0"
    camera = config.cameras[0]
    assert (camera.id, camera.name, camera.source_type, camera.fps) == (
        "front_door",
        "Front door",
        "rtsp",
        5.0,
    )
    assert camera.detect == ("object",)
    assert camera.objects.labels == ("person", "car", "dog")
    assert camera.objects.min_score == 0.6
    assert (config.retention.days, config.retention.max_gb) == (14, 5)
    assert config.registrar is not None
    assert (config.registrar.url, config.registrar.key) == ("https://registrar.example", "pw")
    assert config.ice_servers[0]["urls"] == "turn:turn.example:3478"


def test_minimal_options(tmp_path: Path) -> None:
    options = {"cameras": [{"id": "c", "source": "http://cam.local/snapshot"}]}
    raw = options_to_raw(options, tmp_path, MODELS_DIR, 8778)
    assert raw["cameras"] == [{"id": "c", "source": "http://cam.local/snapshot"}]
    assert "registrar" not in raw


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"cameras": [{"id": "front", "source": "rtsp://x", "fps": 100}]}, "cameras[front].fps"),
        (
            {"cameras": [{"id": "front", "source": "rtsp://x", "detect": 3}]},
            "cameras[front].detect",
        ),
        ({"cameras": [{"id": "a", "source": "x"}, {"id": "a", "source": "y"}]}, "duplicate"),
        ({"cameras": "front"}, "cameras"),
        ({"registrar_url": "ftp://x"}, "registrar.url"),
        ([1, 2], "options"),
    ],
)
def test_bad_options_name_the_option(tmp_path: Path, options: Any, message: str) -> None:
    path = tmp_path / "options.json"
    path.write_text(json.dumps(options))
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_options(path, tmp_path / "data", MODELS_DIR)


def test_media_snapshots_move_into_media_and_back(tmp_path: Path) -> None:
    data, media = tmp_path / "data", tmp_path / "media"
    (data / "snapshots").mkdir(parents=True)
    (data / "snapshots" / "e1.jpg").write_bytes(b"jpeg")
    place_snapshots(data, media, in_media=True)
    assert (data / "snapshots").is_symlink()
    assert (media / "snapshots" / "e1.jpg").read_bytes() == b"jpeg"
    assert (data / "snapshots" / "e1.jpg").read_bytes() == b"jpeg"
    place_snapshots(data, media, in_media=True)  # idempotent
    assert (data / "snapshots").is_symlink()
    place_snapshots(data, media, in_media=False)
    assert not (data / "snapshots").exists()
    assert (media / "snapshots" / "e1.jpg").exists(), "pictures are never deleted"


# --- the run entry, against a stand-in Supervisor ----------------------------------------------


@dataclass
class StandInSupervisor:
    """Answers `POST /discovery` like the Supervisor: first with errors, then with a uuid."""

    failures: int = 1
    posts: list[tuple[dict[str, str], Any]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def discovery(self, request: web.Request) -> web.Response:
        self.posts.append((dict(request.headers), await request.json()))
        if len(self.posts) <= self.failures:
            return web.json_response({"result": "error", "message": "busy"}, status=503)
        self.arrived.set()
        return web.json_response({"result": "ok", "data": {"uuid": "4c8a6e0b"}})


@pytest.fixture
async def supervisor() -> AsyncIterator[tuple[StandInSupervisor, str]]:
    stand_in = StandInSupervisor()
    app = web.Application()
    app.router.add_post("/discovery", stand_in.discovery)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield stand_in, f"http://127.0.0.1:{port}"
    await runner.cleanup()


def _entry(tmp_path: Path, options: dict[str, Any], supervisor_url: str) -> EdgeProcess:
    """Start the add-on's run entry with `options` (blocking), on free loopback ports."""
    (tmp_path / "options.json").write_text(json.dumps(options))
    api_port, ingress_port = free_port(), free_port()
    return EdgeProcess.launch(
        [
            PYTHON,
            "-m",
            "peerwatch_edge.addon",
            "--options",
            str(tmp_path / "options.json"),
            "--data-dir",
            str(tmp_path / "data"),
            "--models-dir",
            str(MODELS_DIR),
            "--media-dir",
            str(tmp_path / "media"),
            "--pwa-dir",
            str(tmp_path / "no-pwa-build"),
            "--api-port",
            str(api_port),
            "--ingress-port",
            str(ingress_port),
            "--ingress-allow",
            "127.0.0.1",
        ],
        port=api_port,
        data_dir=tmp_path / "data",
        log_path=tmp_path / "addon.log",
        env={"SUPERVISOR_TOKEN": "supervisor-secret", "PEERWATCH_SUPERVISOR_URL": supervisor_url},
        ingress_port=ingress_port,
    )


@pytest.mark.slow
async def test_run_entry_serves_and_announces_itself(
    tmp_path: Path, video_path: Path, supervisor: tuple[StandInSupervisor, str]
) -> None:
    stand_in, url = supervisor
    options = {
        **MANIFEST["options"],
        "media_snapshots": True,
        "cameras": [{"id": "hall", "name": "Hall", "source": str(video_path), "fps": 5}],
    }
    entry = await asyncio.to_thread(_entry, tmp_path, options, url)
    try:
        await asyncio.wait_for(stand_in.arrived.wait(), 60)
        headers, body = stand_in.posts[-1]
        assert len(stand_in.posts) == 2, "retried after the Supervisor's error"
        assert headers["Authorization"] == "Bearer supervisor-secret"
        assert body == {
            "service": "peerwatch",
            "config": {"host": socket.gethostname(), "port": entry.port, "token": entry.token},
        }
        async with (
            aiohttp.ClientSession(entry.url, headers=entry.auth) as client,
            client.get("/api/v1/info") as resp,
        ):
            info = await resp.json()
        assert info["name"] == "Peerwatch"
        assert [c["id"] for c in info["cameras"]] == ["hall"]
        async with aiohttp.ClientSession(entry.ingress_url) as panel:
            async with panel.get("/") as resp:
                assert resp.status == 503
                assert "not built" in await resp.text()
            async with panel.get("/api/v1/cameras") as resp:
                assert resp.status == 200
        assert (tmp_path / "data" / "snapshots").is_symlink()
        assert (tmp_path / "media" / "snapshots").is_dir()
    finally:
        await asyncio.to_thread(entry.stop)
    assert "announced to Home Assistant (discovery 4c8a6e0b)" in entry.log()


@pytest.mark.slow
async def test_run_entry_survives_an_absent_supervisor(tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    options = {**MANIFEST["options"], "cameras": []}
    entry = await asyncio.to_thread(_entry, tmp_path, options, closed)
    try:
        await wait_for_async(lambda: "Supervisor discovery failed" in entry.log(), "the failure")
        async with (
            aiohttp.ClientSession() as client,
            client.get(f"{entry.url}/api/v1/health") as resp,
        ):
            assert resp.status == 200
    finally:
        await asyncio.to_thread(entry.stop)


@pytest.mark.parametrize(
    ("options", "logged"),
    [
        (
            {"cameras": [{"id": "front", "source": "rtsp://x", "fps": 100}]},
            "invalid add-on option cameras[front].fps",
        ),
        ({"cameras": [], "log_level": "loud"}, "invalid add-on option log_level"),
    ],
)
def test_run_entry_refuses_bad_options(tmp_path: Path, options: Any, logged: str) -> None:
    (tmp_path / "options.json").write_text(json.dumps(options))
    result = subprocess.run(
        [
            PYTHON,
            "-m",
            "peerwatch_edge.addon",
            "--options",
            str(tmp_path / "options.json"),
            "--data-dir",
            str(tmp_path / "data"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert logged in result.stderr
    assert "Traceback" not in result.stderr


def test_run_entry_refuses_unreadable_options(tmp_path: Path) -> None:
    (tmp_path / "options.json").write_text("{broken")
    result = subprocess.run(
        [PYTHON, "-m", "peerwatch_edge.addon", "--options", str(tmp_path / "options.json")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "not valid JSON" in result.stderr
