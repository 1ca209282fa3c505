"""No missed detections: a (re)connect fires what started meanwhile, once, also across restarts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest.mock import MagicMock

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from custom_components.peerwatch.api import Event, EventPage
from custom_components.peerwatch.const import CONF_CATCH_UP, CONF_LABELS, EVENT_DETECTION

from .conftest import ENTRY_ID, Push, payload

STORAGE_KEY = f"peerwatch.{ENTRY_ID}"
FACE = {"score": 0.88, "box": [0.2, 0.25, 0.3, 0.4], "has_image": True}


def _event(event_id: str, minutes_ago: float, **changes: Any) -> Event:
    """A person event that started some minutes ago and has ended (a short visit)."""
    started = dt_util.utcnow() - timedelta(minutes=minutes_ago)
    stamp = started.isoformat().replace("+00:00", "Z")
    data = payload("events.json")["events"][0] | {
        "id": event_id,
        "started_at": stamp,
        "updated_at": stamp,
        "ended_at": stamp,
        "face": None,
    }
    return Event.from_dict(data | changes)


def _timeline(client: MagicMock, *events: Event) -> None:
    client.events.return_value = EventPage(events=list(events), next=None)


async def _reconnect(hass: HomeAssistant, entry: MockConfigEntry, push: Push) -> None:
    """Drop the push and bring it back; the coordinator re-syncs on the way up."""
    await push.connected(False)
    await hass.async_block_till_done()
    await push.connected(True)
    await entry.runtime_data.async_refresh()
    await hass.async_block_till_done()


async def _restart(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def test_missed_while_push_down_fires_once(
    hass: HomeAssistant, init_integration: MockConfigEntry, mock_client: MagicMock, push: Push
) -> None:
    """A person came and went while the push was down: one bus event per detection after the
    reconnect (the person, and the face seen on them), none for what is older than the window,
    and none again on later re-syncs."""
    fired = async_capture_events(hass, EVENT_DETECTION)
    _timeline(
        mock_client,
        _event("missed", 1, face=FACE),
        _event("too-old", 11),
        *mock_client.events.return_value.events,
    )
    await _reconnect(hass, init_integration, push)
    assert [(e.data["event_id"], e.data["type"]) for e in fired] == [
        ("missed", "person_detected"),
        ("missed", "face_detected"),
    ]
    await _reconnect(hass, init_integration, push)
    assert len(fired) == 2


async def test_no_repeats_across_restart(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_client: MagicMock,
    push: Push,
    hass_storage: dict[str, Any],
) -> None:
    """What fired before a restart stays fired; what started while HA was down fires once."""
    fired = async_capture_events(hass, EVENT_DETECTION)
    _timeline(mock_client, _event("before", 2))
    await _reconnect(hass, init_integration, push)
    assert [e.data["event_id"] for e in fired] == ["before"]

    _timeline(mock_client, _event("while-down", 1), _event("before", 2))
    await _restart(hass, init_integration)
    assert "before" in hass_storage[STORAGE_KEY]["data"]["seen"]
    assert [e.data["event_id"] for e in fired] == ["before", "while-down"]
    await _restart(hass, init_integration)
    assert len(fired) == 2


async def test_first_setup_fires_nothing_already_there(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_client: MagicMock,
    push: Push,
    hass_storage: dict[str, Any],
) -> None:
    """Set up for the first time (nothing stored): what the edge already has is history, not
    news, and the empty state is stored so the next start catches up."""
    fired = async_capture_events(hass, EVENT_DETECTION)
    _timeline(mock_client)
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    await _restart(hass, mock_config_entry)
    assert hass_storage[STORAGE_KEY]["data"] == {"seen": []}

    assert await hass.config_entries.async_unload(mock_config_entry.entry_id)
    hass_storage.pop(STORAGE_KEY)  # as on a fresh install
    _timeline(mock_client, _event("recent", 1))
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert fired == []
    _timeline(mock_client, _event("next", 0.5), _event("recent", 1))
    await _reconnect(hass, mock_config_entry, push)
    assert [e.data["event_id"] for e in fired] == ["next"]


async def test_reads_back_to_the_window(
    hass: HomeAssistant, init_integration: MockConfigEntry, mock_client: MagicMock, push: Push
) -> None:
    """A busy timeline is read back page by page until the window's start, within its limit."""
    hass.config_entries.async_update_entry(
        init_integration, options={CONF_LABELS: ["person"], CONF_CATCH_UP: 30}
    )
    await hass.async_block_till_done()
    fired = async_capture_events(hass, EVENT_DETECTION)
    pages = {
        None: EventPage(events=[_event("p1", 1)], next="c1"),
        "c1": EventPage(events=[_event("p2", 20)], next="c2"),
        "c2": EventPage(events=[_event("p3", 40)], next="c3"),
    }

    async def events(*, limit: int, before: str | None = None) -> EventPage:
        return pages[before]

    mock_client.events.side_effect = events
    await _reconnect(hass, init_integration, push)
    assert [e.data["event_id"] for e in fired] == ["p2", "p1"]
    assert [c.kwargs.get("before") for c in mock_client.events.call_args_list[-3:]] == [
        None,
        "c1",
        "c2",
    ]


async def test_removing_the_entry_forgets(
    hass: HomeAssistant, init_integration: MockConfigEntry, hass_storage: dict[str, Any]
) -> None:
    await hass.config_entries.async_unload(init_integration.entry_id)
    assert STORAGE_KEY in hass_storage
    await hass.config_entries.async_remove(init_integration.entry_id)
    await hass.async_block_till_done()
    assert STORAGE_KEY not in hass_storage
