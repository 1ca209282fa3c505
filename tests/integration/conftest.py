"""Home Assistant fixtures for the integration's tests (run with the HA pytest plugin).

Most tests patch the API client class (as core's peblar tests do) and feed it models parsed
from real API payloads in `fixtures/`; `test_api.py` runs the client itself against an
in-process aiohttp server, and `test_real_edge.py` against a real edge process.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock, patch

import pytest
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

# Import the repository's custom_components before HA puts its testing_config on sys.path,
# or HA finds the plugin's own empty custom_components package instead.
import custom_components.peerwatch  # noqa: F401
from custom_components.peerwatch.api import (
    EdgeInfo,
    EdgeMetrics,
    Event,
    EventPage,
    PairedDevice,
    PairingCode,
    PushMessage,
)
from custom_components.peerwatch.const import CONF_LABELS, DOMAIN
from tests.schemas import SAMPLES, sample, validate
from tests.support import EdgeProcess

from .real_edge import run_real_edge

FIXTURES = SAMPLES
ENTRY_ID = "01JPEERWATCHTESTENTRY0001"
EDGE_ID = "edge-7f3a"
PAIRING_UNTIL = datetime(2026, 11, 25, 6, 5, tzinfo=UTC)


def payload(name: str) -> dict[str, Any]:
    """A recorded API payload (`info.json`...), checked against its schema in docs/schemas."""
    data: dict[str, Any] = sample(name.removesuffix(".json"))
    return data


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> Iterator[None]:
    """Let Home Assistant load custom integrations in every test."""
    return


@pytest.fixture
def entity_registry_enabled_by_default() -> Iterator[None]:
    """Enable entities that are disabled by default."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        return_value=True,
    ):
        yield


@pytest.fixture
def mock_config_entry() -> MockConfigEntry:
    """A config entry for the edge in fixtures/info.json."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Home edge",
        unique_id=EDGE_ID,
        entry_id=ENTRY_ID,
        data={CONF_HOST: "192.0.2.5", CONF_PORT: 8778, CONF_TOKEN: "secret-token"},
        options={CONF_LABELS: ["dog", "person"]},
    )


@dataclass
class Push:
    """The WebSocket side of the patched client: send pushes, drop and restore the link."""

    on_message: Callable[[PushMessage], None] | None = None
    on_connected: Callable[[bool], Awaitable[None]] | None = None
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    def send(self, data: dict[str, Any]) -> None:
        """Deliver one push message as the edge would send it (it must match schema `ws`)."""
        assert self.on_message is not None
        self.on_message(PushMessage.from_dict(validate("ws", data)))

    async def connected(self, up: bool) -> None:
        """Report the WebSocket as up or down."""
        assert self.on_connected is not None
        await self.on_connected(up)


@pytest.fixture
def push() -> Push:
    """The captured WebSocket callbacks."""
    return Push()


@pytest.fixture
def mock_client(push: Push) -> Iterator[MagicMock]:
    """Patch the client class where the integration and the config flow build it."""
    with (
        patch("custom_components.peerwatch.PeerwatchClient", autospec=True) as cls,
        patch("custom_components.peerwatch.config_flow.PeerwatchClient", new=cls),
    ):
        client = cls.return_value
        client.host = "192.0.2.5"
        client.port = 8778
        client.info.return_value = EdgeInfo.from_dict(payload("info.json"))
        client.devices.return_value = [
            PairedDevice.from_dict(d) for d in payload("devices.json")["devices"]
        ]
        page = payload("events.json")
        client.events.return_value = EventPage(
            events=[Event.from_dict(e) for e in page["events"]], next=page["next"]
        )
        client.metrics.return_value = EdgeMetrics.from_text((FIXTURES / "metrics.txt").read_text())
        client.camera_snapshot.return_value = b"\xff\xd8camera\xff\xd9"
        client.event_image.return_value = b"\xff\xd8event\xff\xd9"
        client.start_pairing.return_value = PairingCode(code="482913", expires_at=PAIRING_UNTIL)

        async def listen(
            on_message: Callable[[PushMessage], None],
            on_connected: Callable[[bool], Awaitable[None]],
        ) -> None:
            push.on_message, push.on_connected = on_message, on_connected
            await on_connected(True)
            await push.stop.wait()

        client.listen.side_effect = listen
        yield client


@pytest.fixture
def platforms() -> list[str] | None:
    """Restrict setup to some platforms (None = all)."""
    return None


@pytest.fixture
async def init_integration(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_client: MagicMock,
    platforms: list[str] | None,
) -> MockConfigEntry:
    """Set up the integration with the patched client."""
    mock_config_entry.add_to_hass(hass)
    if platforms is None:
        assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    else:
        with patch("custom_components.peerwatch.PLATFORMS", platforms):
            assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    return mock_config_entry


@pytest.fixture
def real_edge(socket_enabled: None, tmp_path: Path) -> Iterator[EdgeProcess]:
    """A real edge with one file camera looping the fixture video, recording its clips
    (started outside the loop)."""
    with run_real_edge(tmp_path) as edge:
        yield edge
