"""End to end: a real `hass` process, onboarded and set up over its REST and WebSocket APIs,
with this integration talking to a real edge on loopback.

The person in the fixture video must turn the occupancy sensor on and fire
`peerwatch_detection`. Runs without the HA pytest plugin (`-p no:homeassistant`). HA's frontend
package is not installed here, so `frontend: development_repo:` points at an empty folder (the
REST/WebSocket APIs do not need the UI); nothing is faked.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from tests.integration.real_edge import CAMERA_NAME, EDGE_NAME, run_real_edge
from tests.support import REPO, EdgeProcess, ServerProcess, free_port

pytestmark = pytest.mark.slow

HASS = Path(sys.executable).parent / "hass"
OCCUPANCY = "binary_sensor.hall_person_occupancy"
WAIT = 90.0


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
    (config_dir / "frontend" / "hass_frontend").mkdir(parents=True)
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
        "frontend": {"development_repo": str(config_dir / "frontend")},
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


async def _onboard(session: aiohttp.ClientSession, url: str) -> str:
    """Create the owner through onboarding and return an access token."""
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
        token = (await resp.json())["access_token"]
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
    return token


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


async def test_person_in_video_reaches_hass_process(
    edge: EdgeProcess, hass_process: Hass, session: aiohttp.ClientSession
) -> None:
    """(The edge fixture comes first so that it stops after Home Assistant.)"""
    url = hass_process.url
    token = await _onboard(session, url)
    headers = {"Authorization": f"Bearer {token}"}

    async def call(path: str, body: dict[str, Any]) -> dict[str, Any]:
        async with session.post(f"{url}{path}", json=body, headers=headers) as resp:
            assert resp.status == 200, (path, await resp.text())
            return dict(await resp.json())

    async with session.ws_connect(f"{url}/api/websocket") as ws:
        assert (await ws.receive_json())["type"] == "auth_required"
        await ws.send_json({"type": "auth", "access_token": token})
        assert (await ws.receive_json())["type"] == "auth_ok"
        for sub_id, event_type in ((1, "peerwatch_detection"), (2, "state_changed")):
            await ws.send_json({"id": sub_id, "type": "subscribe_events", "event_type": event_type})
            assert (await ws.receive_json())["success"]

        # Add the edge through HA's config-flow REST API, as the UI does.
        flow = await call("/api/config/config_entries/flow", {"handler": "peerwatch"})
        assert (flow["type"], flow["step_id"]) == ("form", "user")
        step = f"/api/config/config_entries/flow/{flow['flow_id']}"
        answer = {"host": "127.0.0.1", "port": edge.port, "token": "not-the-token"}
        assert (await call(step, answer))["errors"] == {"token": "invalid_auth"}
        done = await call(step, {**answer, "token": edge.token})
        assert done["type"] == "create_entry", done
        assert done["title"] == EDGE_NAME

        detection: dict[str, Any] | None = None
        occupied: dict[str, Any] | None = None
        async with asyncio.timeout(WAIT):
            while detection is None or occupied is None:
                message = await ws.receive_json()
                data = message["event"]["data"]
                if message["id"] == 1 and data["label"] == "person":
                    detection = data
                new = data.get("new_state") or {}
                if new.get("entity_id") == OCCUPANCY and new["state"] == "on":
                    occupied = new

    assert detection["camera"] == "hall"
    assert detection["type"] == "person_detected"
    assert detection["snapshot_path"].endswith(f"/events/{detection['event_id']}/snapshot.jpg")
    assert occupied["attributes"]["friendly_name"] == f"{CAMERA_NAME} Person occupancy"

    # The notification picture: HA serves the snapshot from its signed link without a login.
    async with session.get(f"{url}{detection['snapshot_url']}") as resp:
        assert resp.status == 200
        assert (await resp.read())[:2] == b"\xff\xd8"
    async with session.get(f"{url}{detection['snapshot_path']}") as resp:
        assert resp.status == 401
