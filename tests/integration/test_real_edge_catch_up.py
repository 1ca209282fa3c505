"""No missed detections against a real edge: the edge restarts while the person of the fixture
video is in view; HA catches up on the reconnect and fires each detection exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import Event, HomeAssistant

from custom_components.peerwatch.const import DOMAIN, EVENT_DETECTION
from tests.support import EdgeProcess

from .real_edge import until

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("socket_enabled")]


async def test_edge_restart_with_a_person_in_view(
    hass: HomeAssistant, real_edge: EdgeProcess
) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": "127.0.0.1", "port": real_edge.port, "token": real_edge.token}
    )
    entry = result["result"]
    coordinator = entry.runtime_data
    detections: list[Event] = []
    hass.bus.async_listen(EVENT_DETECTION, detections.append)
    await until(hass, lambda: any(e.data["label"] == "person" for e in detections))
    before = {e.data["event_id"] for e in detections}

    real_edge.server.stop()
    await until(hass, lambda: not coordinator.push_connected)
    await asyncio.to_thread(real_edge.server.start, 60)
    await until(hass, lambda: coordinator.push_connected)
    await until(hass, lambda: any(e.data["event_id"] not in before for e in detections))
    for _ in range(2):  # later re-syncs find the same events: nothing fires again
        await coordinator.async_refresh()
        await hass.async_block_till_done()
    fired = Counter((e.data["event_id"], e.data["type"]) for e in detections)
    assert all(count == 1 for count in fired.values()), fired

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
