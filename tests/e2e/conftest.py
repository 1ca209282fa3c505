"""A real `hass` process with HA's real frontend and this integration, a real edge beside it,
and the owner created through onboarding (as a new user does in the browser)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from tests.integration.real_edge import run_real_edge
from tests.support import REPO, EdgeProcess, ServerProcess, free_port

HASS = Path(sys.executable).parent / "hass"


@dataclass
class Hass:
    url: str
    process: ServerProcess
    config_dir: Path


@pytest.fixture
def edge(tmp_path: Path) -> Iterator[EdgeProcess]:
    """A real edge looping the fixture video."""
    with run_real_edge(tmp_path / "edge") as real:
        yield real


@pytest.fixture
def hass_process(tmp_path: Path) -> Iterator[Hass]:
    """A real Home Assistant with a fresh config dir and this integration in custom_components."""
    config_dir = tmp_path / "hass"
    (config_dir / "custom_components").mkdir(parents=True)
    (config_dir / "custom_components" / "peerwatch").symlink_to(
        REPO / "custom_components" / "peerwatch"
    )
    port = free_port()
    config = {
        "homeassistant": {
            "name": "E2E",
            "latitude": 52.0,
            "longitude": 4.0,
            "elevation": 0,
            "unit_system": "metric",
            "time_zone": "UTC",
            "country": "NL",
        },
        "http": {"server_host": "127.0.0.1", "server_port": port},
        "frontend": {},
        "recorder": {},  # as in every real install (default_config); the frontend asks for it
        "onboarding": None,
        "config": None,
    }
    (config_dir / "configuration.yaml").write_text(yaml.safe_dump(config))
    url = f"http://127.0.0.1:{port}"
    process = ServerProcess(
        [str(HASS), "-c", str(config_dir), "--skip-pip"],
        port=port,
        log_path=tmp_path / "hass.log",
        health_url=f"{url}/api/onboarding",
    )
    process.start(timeout=120)
    try:
        yield Hass(url=url, process=process, config_dir=config_dir)
    finally:
        process.stop(timeout=30)
        peerwatch_errors = [
            line
            for line in process.log().splitlines()
            if "peerwatch" in line and (" ERROR " in line or "Traceback" in line)
        ]
        assert not peerwatch_errors, process.log()


async def onboard(session: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    """Create the owner through onboarding; return the tokens (access and refresh)."""
    client_id = f"{url}/"
    async with session.post(
        f"{url}/api/onboarding/users",
        json={
            "client_id": client_id,
            "name": "Owner",
            "username": "owner",
            "password": "correct horse battery staple",
            "language": "en",
        },
    ) as resp:
        assert resp.status == 200, await resp.text()
        auth_code = (await resp.json())["auth_code"]
    async with session.post(
        f"{url}/auth/token",
        data={"grant_type": "authorization_code", "code": auth_code, "client_id": client_id},
    ) as resp:
        assert resp.status == 200, await resp.text()
        tokens: dict[str, Any] = await resp.json()
    token = tokens["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    for step, body in (
        ("core_config", None),
        ("analytics", None),
        ("integration", {"client_id": client_id, "redirect_uri": f"{url}/?auth_callback=1"}),
    ):
        async with session.post(f"{url}/api/onboarding/{step}", json=body, headers=headers) as resp:
            assert resp.status == 200, (step, await resp.text())
    async with session.get(f"{url}/api/onboarding") as resp:
        assert all(step["done"] for step in await resp.json())
    return tokens


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session
