"""The notification blueprint, run for real: mobile_app registration, push, signed snapshot or
clip."""

from __future__ import annotations

import shutil
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.peerwatch.const import DOMAIN
from tests.support import REPO

from .conftest import EDGE_ID, Push, payload

BLUEPRINT = REPO / "blueprints" / "automation" / "peerwatch" / "notify_detection.yaml"
PUSH_URL = "https://push.example.invalid/send"


@pytest.fixture
def mock_push_service(aioclient_mock: AiohttpClientMocker) -> None:
    """The Companion app's push relay (on the internet, so faked) accepts every push.

    Requested before the integration so HA's shared client session is the mocked one.
    """
    aioclient_mock.post(PUSH_URL, json={"rateLimits": {"remaining": 100}})


@pytest.fixture
async def phone(
    hass: HomeAssistant, tmp_path: Path, hass_client: ClientSessionGenerator
) -> tuple[TestClient, str]:
    """The blueprint installed, and a phone registered the Companion app way (the push service
    is the only fake: no internet); return HA's logged-in test client and the phone's device."""
    hass.config.config_dir = str(tmp_path)
    target = tmp_path / "blueprints" / "automation" / "peerwatch"
    target.mkdir(parents=True)
    shutil.copy(BLUEPRINT, target)

    for component in ("notify", "mobile_app"):  # before the HTTP client freezes the router
        assert await async_setup_component(hass, component, {})
    client = await hass_client()
    resp = await client.post(
        "/api/mobile_app/registrations",
        json={
            "app_data": {"push_token": "PUSH_TOKEN", "push_url": PUSH_URL},
            "app_id": "io.homeassistant.companion.android",
            "app_name": "Home Assistant",
            "app_version": "2025.4",
            "device_name": "Pixel",
            "manufacturer": "Google",
            "model": "Pixel 8",
            "os_name": "Android",
            "os_version": "15",
            "supports_encryption": False,
        },
    )
    assert resp.status == HTTPStatus.CREATED
    await hass.async_block_till_done()
    device = next(d for d in dr.async_get(hass).devices.values() if d.model == "Pixel 8")
    return client, device.id


async def _use_blueprint(hass: HomeAssistant, phone_id: str, **inputs: Any) -> None:
    """Set up an automation from the blueprint for the garden camera, notifying the phone."""
    garden = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, f"{EDGE_ID}_garden")})
    assert garden is not None
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "use_blueprint": {
                    "path": "peerwatch/notify_detection.yaml",
                    "input": {"camera": garden.id, "notify_device": phone_id, **inputs},
                }
            }
        },
    )


@pytest.mark.usefixtures("mock_push_service", "init_integration")
async def test_notify_detection_blueprint(
    hass: HomeAssistant,
    phone: tuple[TestClient, str],
    push: Push,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    client, phone_id = phone
    await _use_blueprint(hass, phone_id, labels=["person", "fall"], min_score=0.8, cooldown=0)
    event = payload("events.json")["events"][0]
    push.send({"type": "event.start", "event": {**event, "id": "n0", "camera": "front_door"}})
    push.send(
        {"type": "event.start", "event": {**event, "id": "n1", "camera": "garden", "score": 0.5}}
    )
    push.send(
        {"type": "event.start", "event": {**event, "id": "n2", "camera": "garden", "label": "dog"}}
    )
    await hass.async_block_till_done()
    assert aioclient_mock.call_count == 0, "other camera, low score and other label are ignored"

    push.send({"type": "event.start", "event": {**event, "id": "n3", "camera": "garden"}})
    await hass.async_block_till_done()
    assert aioclient_mock.call_count == 1
    sent = aioclient_mock.mock_calls[0][2]
    assert sent["title"] == "Person on Garden"
    assert sent["message"].startswith("Object detection (91%)")
    image = sent["data"]["image"]
    assert image.startswith(f"/api/{DOMAIN}/")
    assert "/events/n3/snapshot.jpg?authSig=" in image

    # The phone fetches the picture from HA with the signed link alone.
    # (An empty Authorization header overrides the test client's login.)
    anonymous = {"Authorization": ""}
    assert (await client.get(image.split("?")[0], headers=anonymous)).status == 401
    resp = await client.get(image, headers=anonymous)
    assert resp.status == HTTPStatus.OK
    assert resp.content_type == "image/jpeg"
    assert "video" not in sent["data"], "the snapshot by default"


@pytest.mark.usefixtures("mock_push_service", "init_integration")
async def test_notify_detection_blueprint_attaches_the_clip(
    hass: HomeAssistant,
    phone: tuple[TestClient, str],
    push: Push,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    _, phone_id = phone
    await _use_blueprint(hass, phone_id, attachment="clip", cooldown=0)
    event = payload("events.json")["events"][0]
    # An event without a clip (a camera that does not record): the snapshot goes out.
    push.send({"type": "event.start", "event": {**event, "id": "c1", "camera": "garden"}})
    await hass.async_block_till_done()
    assert aioclient_mock.call_count == 1
    sent = aioclient_mock.mock_calls[0][2]["data"]
    assert "/events/c1/snapshot.jpg?authSig=" in sent["image"]
    assert "video" not in sent

    # An event with a clip: the clip's signed link goes out as video.
    push.send(
        {
            "type": "event.start",
            "event": {**event, "id": "c2", "camera": "garden", "has_clip": True},
        }
    )
    await hass.async_block_till_done()
    assert aioclient_mock.call_count == 2
    sent = aioclient_mock.mock_calls[1][2]["data"]
    assert sent["video"].startswith(f"/api/{DOMAIN}/")
    assert "/events/c2/clip.mp4?authSig=" in sent["video"]
    assert "image" not in sent
    assert (sent["tag"], sent["group"]) == ("peerwatch-garden", "peerwatch")
