"""Device triggers, services, the authenticated snapshot view, media source, diagnostics."""

from __future__ import annotations

from http import HTTPStatus
from unittest.mock import MagicMock

import pytest
from homeassistant.components import automation, media_source
from homeassistant.components.device_automation import DeviceAutomationType
from homeassistant.components.media_source import Unresolvable
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_get_device_automations,
    async_mock_service,
)
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.peerwatch.api import (
    Event,
    EventPage,
    PeerwatchAuthError,
    PeerwatchConnectionError,
    PeerwatchNotFoundError,
)
from custom_components.peerwatch.const import DOMAIN

from .conftest import EDGE_ID, ENTRY_ID, PAIRING_UNTIL, Push, payload

pytestmark = pytest.mark.usefixtures("init_integration")
SNAPSHOT = f"/api/{DOMAIN}/{ENTRY_ID}/events/ev3/snapshot.jpg"


def _camera_device(hass: HomeAssistant, camera: str) -> dr.DeviceEntry:
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, f"{EDGE_ID}_{camera}")})
    assert device is not None
    return device


async def test_device_triggers_listed(hass: HomeAssistant) -> None:
    device = _camera_device(hass, "front_door")
    triggers = await async_get_device_automations(hass, DeviceAutomationType.TRIGGER, device.id)
    ours = sorted(t["type"] for t in triggers if t["domain"] == DOMAIN)
    assert ours == ["face_detected", "fall_detected", "person_detected"]
    edge = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, EDGE_ID)})
    triggers = await async_get_device_automations(hass, DeviceAutomationType.TRIGGER, edge.id)
    assert [t for t in triggers if t["domain"] == DOMAIN] == []


async def test_device_trigger_fires(hass: HomeAssistant, push: Push) -> None:
    calls: list[ServiceCall] = async_mock_service(hass, "test", "automation")
    front, garden = _camera_device(hass, "front_door"), _camera_device(hass, "garden")
    assert await async_setup_component(
        hass,
        automation.DOMAIN,
        {
            automation.DOMAIN: [
                {
                    "trigger": {
                        "platform": "device",
                        "domain": DOMAIN,
                        "device_id": garden.id,
                        "type": trigger,
                    },
                    "action": {
                        "service": "test.automation",
                        "data": {"what": trigger, "event": "{{ trigger.event.data.event_id }}"},
                    },
                }
                for trigger in ("person_detected", "fall_detected", "face_detected")
            ]
        },
    )
    event = {**payload("events.json")["events"][0], "face": None}
    push.send({"type": "event.start", "event": {**event, "id": "a", "camera": "front_door"}})
    push.send({"type": "event.start", "event": {**event, "id": "b", "camera": "garden"}})
    push.send(
        {"type": "event.start", "event": {**event, "id": "c", "camera": "garden", "kind": "fall"}}
    )
    push.send(
        {"type": "event.start", "event": {**event, "id": "d", "camera": "garden", "kind": "face"}}
    )
    # A face seen on person "b": the face trigger fires once for the visit, however often the
    # person's event is updated afterwards.
    face = {"score": 0.93, "box": [0.2, 0.25, 0.3, 0.4], "has_image": True}
    for _ in range(3):
        push.send(
            {
                "type": "event.update",
                "event": {**event, "id": "b", "camera": "garden", "face": face},
            }
        )
    await hass.async_block_till_done()
    assert [(c.data["what"], c.data["event"]) for c in calls] == [
        ("person_detected", "b"),
        ("fall_detected", "c"),
        ("face_detected", "d"),
        ("face_detected", "b"),
    ]
    assert front.id != garden.id


async def test_start_pairing_service(hass: HomeAssistant, mock_client: MagicMock) -> None:
    response = await hass.services.async_call(
        DOMAIN,
        "start_pairing",
        {"config_entry_id": ENTRY_ID},
        blocking=True,
        return_response=True,
    )
    assert response == {"code": "482913", "expires_at": PAIRING_UNTIL.isoformat()}

    mock_client.start_pairing.side_effect = PeerwatchAuthError("401")
    with pytest.raises(HomeAssistantError, match="refused the API token"):
        await hass.services.async_call(
            DOMAIN,
            "start_pairing",
            {"config_entry_id": ENTRY_ID},
            blocking=True,
            return_response=True,
        )
    await hass.async_block_till_done()
    assert [f["context"]["source"] for f in hass.config_entries.flow.async_progress()] == ["reauth"]


async def test_revoke_device_service(hass: HomeAssistant, mock_client: MagicMock) -> None:
    await hass.services.async_call(
        DOMAIN, "revoke_device", {"config_entry_id": ENTRY_ID, "device_id": "dev-1"}, blocking=True
    )
    mock_client.revoke_device.assert_awaited_once_with("dev-1")

    with pytest.raises(ServiceValidationError, match="no paired device with id nope"):
        await hass.services.async_call(
            DOMAIN,
            "revoke_device",
            {"config_entry_id": ENTRY_ID, "device_id": "nope"},
            blocking=True,
        )
    mock_client.revoke_device.side_effect = PeerwatchNotFoundError("gone")
    with pytest.raises(HomeAssistantError, match="does not know that item"):
        await hass.services.async_call(
            DOMAIN,
            "revoke_device",
            {"config_entry_id": ENTRY_ID, "device_id": "dev-1"},
            blocking=True,
        )


async def test_services_need_a_loaded_entry(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    with pytest.raises(ServiceValidationError, match="No Peerwatch config entry"):
        await hass.services.async_call(
            DOMAIN,
            "start_pairing",
            {"config_entry_id": "nope"},
            blocking=True,
            return_response=True,
        )
    await hass.config_entries.async_unload(mock_config_entry.entry_id)
    with pytest.raises(ServiceValidationError, match="is not loaded"):
        await hass.services.async_call(
            DOMAIN,
            "revoke_device",
            {"config_entry_id": ENTRY_ID, "device_id": "dev-1"},
            blocking=True,
        )


async def test_snapshot_view_needs_auth(
    hass: HomeAssistant,
    mock_client: MagicMock,
    hass_client: ClientSessionGenerator,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    anonymous = await hass_client_no_auth()
    assert (await anonymous.get(SNAPSHOT)).status == HTTPStatus.UNAUTHORIZED

    client = await hass_client()
    resp = await client.get(SNAPSHOT)
    assert resp.status == HTTPStatus.OK
    assert resp.content_type == "image/jpeg"
    assert await resp.read() == b"\xff\xd8event\xff\xd9"
    mock_client.event_image.assert_awaited_with("ev3", "snapshot.jpg")

    await client.get(SNAPSHOT.replace("snapshot.jpg", "thumbnail.jpg"))
    mock_client.event_image.assert_awaited_with("ev3", "thumbnail.jpg")
    assert (await client.get(SNAPSHOT.replace("snapshot.jpg", "face.jpg"))).status == 200
    mock_client.event_image.assert_awaited_with("ev3", "face.jpg")
    assert (await client.get(SNAPSHOT.replace("snapshot", "other"))).status == 404
    assert (await client.get(SNAPSHOT.replace(ENTRY_ID, "x"))).status == 404
    mock_client.event_image.side_effect = PeerwatchNotFoundError("no such event")
    assert (await client.get(SNAPSHOT)).status == 404
    mock_client.event_image.side_effect = PeerwatchConnectionError("down")
    assert (await client.get(SNAPSHOT)).status == 502


async def test_snapshot_view_signed_path(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator, push: Push
) -> None:
    """The bus event's signed URL works without a login, and only for that path."""
    events = []
    hass.bus.async_listen("peerwatch_detection", events.append)
    push.send({"type": "event.start", "event": {**payload("events.json")["events"][0], "id": "s1"}})
    await hass.async_block_till_done()
    signed = events[0].data["snapshot_url"]
    anonymous = await hass_client_no_auth()
    assert (await anonymous.get(signed)).status == HTTPStatus.OK
    tampered = signed.replace("/s1/", "/ev1/")
    assert (await anonymous.get(tampered)).status == HTTPStatus.UNAUTHORIZED


async def test_media_source_browse_and_resolve(hass: HomeAssistant, mock_client: MagicMock) -> None:
    root = await media_source.async_browse_media(hass, f"media-source://{DOMAIN}")
    assert [c.title for c in root.children] == ["Home edge"]
    edge = await media_source.async_browse_media(hass, root.children[0].media_content_id)
    assert [c.title for c in edge.children] == ["Front door", "Garden"]

    face = {"score": 0.9, "box": [0.2, 0.25, 0.3, 0.4], "has_image": True}
    first = [
        Event.from_dict(e | {"face": face} if e["id"] == "ev2" else e)
        for e in payload("events.json")["events"]
    ]
    older = [
        Event.from_dict({**e, "id": f"old-{e['id']}"}) for e in payload("events.json")["events"]
    ]
    mock_client.events.side_effect = [
        EventPage(events=first, next="cursor-2"),
        EventPage(events=older, next=None),
    ]
    page = await media_source.async_browse_media(hass, edge.children[0].media_content_id)
    mock_client.events.assert_awaited_with(camera="front_door", before=None, limit=50)
    assert page.title == "Front door"
    assert [c.can_play for c in page.children] == [True, True, True, False]
    assert [c.title for c in page.children[:2]] == [
        "Person 91% · Front door · 22:01:00",  # HA's tests run in US/Pacific
        "Dog 77% · Garden · 21:50:00",
    ]
    assert page.children[0].thumbnail.startswith(
        f"/api/{DOMAIN}/{ENTRY_ID}/events/ev3/thumbnail.jpg?authSig="
    )
    assert page.children[1].thumbnail.startswith(
        f"/api/{DOMAIN}/{ENTRY_ID}/events/ev2/face.jpg?authSig="
    )
    more = page.children[-1]
    assert more.title == "Older…"
    page2 = await media_source.async_browse_media(hass, more.media_content_id)
    mock_client.events.assert_awaited_with(camera="front_door", before="cursor-2", limit=50)
    assert len(page2.children) == 3
    assert not any(c.can_expand for c in page2.children)

    resolved = await media_source.async_resolve_media(hass, page.children[0].media_content_id, None)
    assert resolved.mime_type == "image/jpeg"
    assert resolved.url.startswith(SNAPSHOT + "?authSig=")


async def test_media_source_errors(hass: HomeAssistant, mock_client: MagicMock) -> None:
    base = f"media-source://{DOMAIN}"
    with pytest.raises(Unresolvable):
        await media_source.async_browse_media(hass, f"{base}/not-an-entry")
    with pytest.raises(Unresolvable):
        await media_source.async_browse_media(hass, f"{base}/{ENTRY_ID}/c/no_such_camera")
    with pytest.raises(Unresolvable):
        await media_source.async_resolve_media(hass, f"{base}/{ENTRY_ID}/c/front_door", None)
    mock_client.events.side_effect = PeerwatchConnectionError("down")
    with pytest.raises(Unresolvable):
        await media_source.async_browse_media(hass, f"{base}/{ENTRY_ID}/c/front_door")


async def test_diagnostics(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, hass_client: ClientSessionGenerator
) -> None:
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, mock_config_entry)
    assert diagnostics["entry"]["data"] == {
        "host": "192.0.2.5",
        "port": 8778,
        "token": "**REDACTED**",
    }
    assert diagnostics["info"]["peer_id"] == "**REDACTED**"
    assert "secret-token" not in str(diagnostics)
    assert diagnostics["info"]["id"] == EDGE_ID
    assert sorted(diagnostics["info"]["cameras"]) == ["front_door", "garden"]
    assert diagnostics["runtime"]["push_connected"] is True
    assert [e["id"] for e in diagnostics["open_events"]] == ["ev3"]
    assert diagnostics["paired_devices"][0]["id"] == "dev-1"
