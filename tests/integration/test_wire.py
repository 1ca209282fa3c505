"""The integration's recorded payloads are the edge's wire format: each `fixtures/<name>.json`
matches docs/schemas/<name>.schema.json, and the client parses every shape a schema allows."""

from __future__ import annotations

import json
from typing import Any

import pytest

from custom_components.peerwatch.api import EdgeInfo, PushMessage
from tests.schemas import validate

from .conftest import FIXTURES, payload

FIXTURE_FILES = sorted(p.name for p in FIXTURES.glob("*.json"))


@pytest.mark.parametrize("name", FIXTURE_FILES)
def test_fixture_matches_its_schema(name: str) -> None:
    validate(name.removesuffix(".json"), json.loads((FIXTURES / name).read_text()))


def test_info_without_remote_access() -> None:
    """Remote access off: no peer id, registrar disabled, no cameras and no ICE servers."""
    data = {**payload("info.json"), "peer_id": None, "registrar": "disabled"}
    info = EdgeInfo.from_dict(validate("info", {**data, "cameras": [], "ice_servers": []}))
    assert (info.peer_id, info.registrar_connected, info.cameras) == (None, False, {})


def _pushes() -> list[dict[str, Any]]:
    """One message of each type the WebSocket sends, built from the fixtures."""
    info, events = payload("info.json"), payload("events.json")["events"]
    hello = {"type": "hello", "edge_id": info["edge_id"], "cameras": info["cameras"]}
    started, ended = events[0], events[1]
    offline = {**info["cameras"][1], "online": False, "fps": 0, "error": "stream ended"}
    return [
        hello,
        {"type": "event.start", "event": {**started, "box": None, "has_snapshot": False}},
        {"type": "event.update", "event": started},
        {"type": "event.end", "event": ended},
        {"type": "camera.status", "camera": offline},
    ]


@pytest.mark.parametrize("message", _pushes(), ids=lambda m: m["type"])
def test_client_parses_every_push(message: dict[str, Any]) -> None:
    push = PushMessage.from_dict(validate("ws", message))
    assert push.type == message["type"]
    if "event" in message:
        assert push.event is not None
        assert push.event.id == message["event"]["id"]
        assert push.event.is_open is (message["event"]["ended_at"] is None)
    if "camera" in message:
        assert push.camera is not None
        assert (push.camera.online, push.camera.error) == (False, "stream ended")
    if "cameras" in message:
        assert [c.id for c in push.cameras] == ["front_door", "garden"]


def test_client_refuses_a_push_missing_a_required_field() -> None:
    """A shape the edge never sends is an error (the caller logs and drops it), not a guess."""
    event = {k: v for k, v in payload("events.json")["events"][0].items() if k != "label"}
    with pytest.raises(KeyError, match="label"):
        PushMessage.from_dict({"type": "event.start", "event": event})
