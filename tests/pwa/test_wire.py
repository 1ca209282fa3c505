"""What the PWA consumes is the edge's wire format (docs/schemas).

The built app in real Chromium reads schema-valid payloads (the integration's recorded ones,
validated here) served in place of an edge: /info, cameras, events and every WebSocket push
type, and shows them. A real edge with a TURN server in its `ice_servers` then gets it to the
app over both transports: the app's live-video RTCPeerConnection uses it, and the paired app
keeps it for the DataChannel of its next start.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Page, Route, WebSocketRoute, expect

from peerwatch_edge.api.ingress import SERVED_BY_EDGE
from tests.pwa.stack import PHONE
from tests.pwa.test_ingress import wait_for_video
from tests.pwa.test_remote import KV_GET, pair
from tests.schemas import sample, validate
from tests.support import IMAGES_DIR, PYTHON, EdgeProcess, ServerProcess, free_port

pytestmark = pytest.mark.slow

JPEG = (IMAGES_DIR / "person-no-face.jpg").read_bytes()
RECORD_PEER_CONNECTIONS = """
window.pcConfigs = [];
window.RTCPeerConnection = class extends RTCPeerConnection {
  constructor(config) {
    super(config);
    window.pcConfigs.push(this.getConfiguration().iceServers);
  }
};
"""
"""Keep the ICE servers of every RTCPeerConnection the page makes, as Chromium took them."""


def as_taken(servers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """ICE servers as RTCPeerConnection.getConfiguration gives them: `urls` a list, no field
    left out."""
    return [
        {"username": "", "credential": "", **s, "urls": urls if isinstance(urls, list) else [urls]}
        for s in servers
        for urls in [s["urls"]]
    ]


async def pc_configs(page: Page) -> list[list[dict[str, Any]]]:
    configs: list[list[dict[str, Any]]] = await page.evaluate("window.pcConfigs")
    return configs


def answer(body: object, status: int = 200) -> Callable[[Route], Awaitable[None]]:
    """A route handler answering `body` as JSON."""

    async def fulfill(route: Route) -> None:
        await route.fulfill(status=status, json=body)

    return fulfill


class FakeEdgeApi:
    """Answers the app's API calls with schema-valid payloads; pushes through its WebSocket."""

    def __init__(self) -> None:
        self.info = sample("info")
        self.ws: WebSocketRoute | None = None

    async def install(self, page: Page) -> None:
        await page.route(lambda url: urlsplit(url).path in ("/", "/index.html"), self.index)
        cameras = validate("cameras", {"cameras": self.info["cameras"]})
        json_routes = {
            "**/api/v1/info": self.info,
            "**/api/v1/cameras": cameras,
            "**/api/v1/events?*": sample("events"),
            **{f"**/api/v1/events/{e['id']}": e for e in sample("events")["events"]},
        }
        for pattern, body in json_routes.items():
            await page.route(pattern, answer(body))
        await page.route("**/api/v1/*/*/*.jpg", self.picture)
        refused = validate("error", {"error": "unavailable", "message": "no video here"})
        await page.route("**/api/v1/cameras/*/webrtc", answer(refused, 503))
        await page.route_web_socket("**/api/v1/ws", self.connected)

    @staticmethod
    async def index(route: Route) -> None:
        """The page marked as the edge marks it (ingress), so the app uses this origin's API."""
        page = await route.fetch()
        html = (await page.text()).replace("<head>", f"<head>{SERVED_BY_EDGE}", 1)
        await route.fulfill(response=page, body=html)

    @staticmethod
    async def picture(route: Route) -> None:
        await route.fulfill(body=JPEG, content_type="image/jpeg")

    def connected(self, ws: WebSocketRoute) -> None:
        self.ws = ws
        self.push(
            {"type": "hello", "edge_id": self.info["edge_id"], "cameras": self.info["cameras"]}
        )

    def push(self, message: dict[str, Any]) -> None:
        assert self.ws is not None
        self.ws.send(json.dumps(validate("ws", message)))


async def test_app_shows_schema_valid_payloads_and_pushes(
    browser: Browser, start_server: Callable[..., ServerProcess], pwa_dist: Path
) -> None:
    port = free_port()
    argv = [PYTHON, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(pwa_dist)]
    start_server([*argv, str(port)], port=port, name="dist-http")
    context = await browser.new_context(viewport=PHONE, service_workers="block")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.add_init_script(RECORD_PEER_CONNECTIONS)
    edge = FakeEdgeApi()
    await edge.install(page)
    await page.goto(f"http://127.0.0.1:{port}/")

    await expect(page.locator("header.topbar h1")).to_have_text(edge.info["name"])
    garden = page.locator("article.camera[data-camera=garden]")
    await expect(garden).to_contain_text("Garden")
    await expect(garden.locator(".dot")).to_have_class("dot online")
    await expect(garden.get_by_role("switch")).not_to_be_checked()
    await expect(
        page.locator("article.camera[data-camera=front_door] [role=switch]")
    ).to_be_checked()
    offline = {**edge.info["cameras"][1], "online": False, "error": "stream ended"}
    edge.push({"type": "camera.status", "camera": offline})
    await expect(garden).to_contain_text("Offline · stream ended")

    await page.get_by_role("link", name="Timeline").click()
    cards = page.locator("li.event-card")
    await expect(cards).to_have_count(3)
    await expect(cards.first).to_contain_text("Person")
    await expect(cards.first).to_contain_text("Front door")
    newest = {**sample("events")["events"][0], "id": "ev4", "label": "dog", "camera": "garden"}
    newest |= {"started_at": "2026-11-25T06:02:00Z", "has_snapshot": False, "box": None}
    edge.push({"type": "event.start", "event": newest})
    card = page.locator("li.event-card[data-id=ev4]")
    await expect(card).to_contain_text("Dog")
    await expect(card.locator(".badge")).to_have_text("Now")
    ended = {**newest, "ended_at": "2026-11-25T06:02:30Z", "has_snapshot": True}
    edge.push({"type": "event.update", "event": {**newest, "has_snapshot": True}})
    edge.push({"type": "event.end", "event": ended})
    await expect(card.locator(".badge")).not_to_have_text("Now")
    # A face seen on a person is shown on the person's card, and in its event with its crop.
    await expect(card.locator(".chip")).to_be_hidden()
    face = {"score": 0.91, "box": [0.4, 0.2, 0.5, 0.35], "has_image": True}
    edge.push({"type": "event.update", "event": {**ended, "face": face}})
    await expect(card.locator(".chip")).to_have_text("Face")
    await expect(card.locator(".chip")).to_be_visible()
    await page.locator("li.event-card[data-id=ev1] a").click()
    await expect(page.locator("img.event-face")).to_be_visible()
    await expect(page.locator("dl.facts")).to_contain_text("Seen · 93%")

    await page.evaluate("location.hash = '#/live/front_door'")
    await expect(page.locator("main")).to_contain_text("no video here", timeout=15000)
    configs = await pc_configs(page)
    assert configs, "the live view made no RTCPeerConnection"
    assert configs[-1] == as_taken(edge.info["ice_servers"])
    assert not errors, errors


async def test_turn_server_of_the_edge_config_reaches_live_video(
    browser: Browser,
    registrar_factory: Callable[..., ServerProcess],
    edge_factory: Callable[..., EdgeProcess],
) -> None:
    turn = {
        "urls": f"turn:127.0.0.1:{free_port()}?transport=tcp",  # closed: given up on at once
        "username": "peerwatch",
        "credential": "turn-secret",
    }
    reg = registrar_factory()
    url = f"http://127.0.0.1:{reg.port}/"
    edge = await asyncio.to_thread(edge_factory, registrar=url, ice_servers=[turn])
    context = await browser.new_context(viewport=PHONE)
    await context.add_init_script(RECORD_PEER_CONNECTIONS)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # Remote: the first start knows no ICE servers; /info over the channel gives them.
    await page.goto(url)
    await pair(page, edge)
    await page.wait_for_function(f"() => ({KV_GET})('iceServers')", timeout=15000)
    assert await page.evaluate(KV_GET, "iceServers") == [turn]
    await page.evaluate("location.hash = '#/live/door'")
    await wait_for_video(page)
    assert (await pc_configs(page))[-1] == as_taken([turn])
    # The next start makes the DataChannel's connection with them too.
    await page.reload()
    await expect(page.locator(".pill")).to_have_attribute("data-phase", "online", timeout=30000)
    assert (await pc_configs(page))[-1] == as_taken([turn])  # (PeerJS probes with its own first)

    # Ingress: the same-origin app reads them from /info as well.
    ingress = await context.new_page()
    ingress.on("pageerror", lambda exc: errors.append(str(exc)))
    await ingress.goto(edge.ingress_url + "#/live/door")
    await wait_for_video(ingress)
    assert (await pc_configs(ingress))[-1] == as_taken([turn])
    assert not errors, errors
