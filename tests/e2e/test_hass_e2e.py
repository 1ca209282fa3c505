"""End to end: a real `hass` process, onboarded and set up over its REST and WebSocket APIs,
with this integration talking to a real edge on loopback.

The person in the fixture video must turn the occupancy sensor on and fire
`peerwatch_detection`. Runs without the HA pytest plugin (`-p no:homeassistant`); the fixtures
are in conftest.py. Nothing is faked.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from tests.integration.real_edge import CAMERA_NAME, EDGE_NAME
from tests.support import EdgeProcess

from .conftest import Hass, onboard

pytestmark = pytest.mark.slow

OCCUPANCY = "binary_sensor.hall_person_occupancy"
WAIT = 90.0


async def test_person_in_video_reaches_hass_process(
    edge: EdgeProcess, hass_process: Hass, session: aiohttp.ClientSession
) -> None:
    """(The edge fixture comes first so that it stops after Home Assistant.)"""
    url = hass_process.url
    token = (await onboard(session, url))["access_token"]
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
