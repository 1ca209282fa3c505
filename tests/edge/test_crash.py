"""A real edge killed with SIGKILL (a crash or a power cut) and started again."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import camera_config, edge_config, start_edge, wait_for


def open_event(events: list[dict[str, object]]) -> dict[str, object] | None:
    return next((e for e in events if e["ended_at"] is None), None)


@pytest.mark.slow
def test_events_open_at_a_kill_9_end_at_their_last_update_on_restart(tmp_path: Path) -> None:
    config = edge_config(tmp_path / "data", camera_config("door"))
    edge = start_edge(config, tmp_path)
    try:
        live = wait_for(lambda: open_event(edge.call("GET", "/events")["events"]), "an open event")
    finally:
        edge.server.kill()

    config["cameras"] = []  # nothing new happens after the restart
    edge = start_edge(config, tmp_path, name="restarted")
    try:
        event = edge.call("GET", f"/events/{live['id']}")
        events = edge.call("GET", "/events")["events"]
    finally:
        edge.stop()
    assert event["ended_at"] == event["updated_at"]  # ended where it was last seen
    assert open_event(events) is None  # nothing shows as "now" any more
