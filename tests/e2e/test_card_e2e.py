"""The dashboard card in HA's real frontend: headless Chromium on a real `hass` process with this
integration and a real edge looping the fixture video.

The owner is logged in by putting the tokens from onboarding into localStorage, as the frontend's
own login does; the default dashboard is saved through the lovelace WebSocket API with the card
from its YAML config. The card must render, play the live view, load its thumbnails, show a new
detection without a reload and open a snapshot on a tap. Screenshots are kept in the test's tmp
dir (light at desktop width, dark at phone width).
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Browser, Page

from tests.browser import chromium
from tests.integration.real_edge import CAMERA_ID, CAMERA_NAME
from tests.support import EdgeProcess

from .conftest import Hass, onboard

pytestmark = pytest.mark.slow

CAMERA = f"camera.{CAMERA_ID}"
WAIT_MS = int(os.environ.get("PEERWATCH_E2E_WAIT_MS", "120000"))
CARD = "peerwatch-card"


async def _ws(
    session: aiohttp.ClientSession, url: str, token: str, *messages: dict[str, Any]
) -> None:
    """Send WebSocket commands as the owner; each must succeed."""
    async with session.ws_connect(f"{url}/api/websocket") as ws:
        assert (await ws.receive_json())["type"] == "auth_required"
        await ws.send_json({"type": "auth", "access_token": token})
        assert (await ws.receive_json())["type"] == "auth_ok"
        for number, message in enumerate(messages, start=1):
            await ws.send_json({"id": number, **message})
            reply = await ws.receive_json()
            assert reply["success"], reply


async def _add_edge(
    session: aiohttp.ClientSession, url: str, token: str, edge: EdgeProcess
) -> None:
    """Add the edge through the config flow's REST API, as the UI does."""
    headers = {"Authorization": f"Bearer {token}"}
    answer = {"host": "127.0.0.1", "port": edge.port, "token": edge.token}
    async with session.post(
        f"{url}/api/config/config_entries/flow", json={"handler": "peerwatch"}, headers=headers
    ) as resp:
        flow = await resp.json()
    async with session.post(
        f"{url}/api/config/config_entries/flow/{flow['flow_id']}", json=answer, headers=headers
    ) as resp:
        assert (await resp.json())["type"] == "create_entry"


async def _open_dashboard(
    browser: Browser,
    url: str,
    tokens: dict[str, Any],
    errors: list[str],
    shot: Path,
    **options: Any,
) -> Page:
    """Open the Cameras view logged in as the owner (tokens in localStorage, as after login)."""
    context = await browser.new_context(**options)
    stored = {
        **tokens,
        "hassUrl": url,
        "clientId": f"{url}/",
        "expires": int(time.time() * 1000) + tokens["expires_in"] * 1000,
    }
    await context.add_init_script(
        f"localStorage.setItem('hassTokens', {json.dumps(json.dumps(stored))});"
    )
    page = await context.new_page()
    page.on("pageerror", lambda exc: errors.append(f"{exc}\n{exc.stack}"))
    console: list[str] = []
    page.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
    await page.goto(f"{url}/lovelace/cameras")
    try:
        await page.locator(f"{CARD} ha-card").wait_for(timeout=WAIT_MS)
    except Exception:
        await page.screenshot(path=shot)
        loaded = await page.evaluate(
            "() => [!!customElements.get('peerwatch-card'), performance.getEntriesByType"
            "('resource').map(r => r.name).filter(n => n.includes('peerwatch'))]"
        )
        console.append(f"card defined, fetched: {loaded}")
        if loaded[1]:
            console.append(
                await page.evaluate(
                    "u => import(u).then(() => 'imported', e => String(e.stack || e))", loaded[1][0]
                )
            )
        raise AssertionError(f"no card, see {shot}; errors: {errors}; console: {console}") from None
    return page


async def _loaded_images(page: Page, selector: str) -> list[str]:
    """The ids of the detections whose picture has loaded."""
    ids: list[str] = await page.locator(selector).evaluate_all(
        "tiles => tiles.filter(t => { const i = t.querySelector('img');"
        " return i && i.complete && i.naturalWidth > 0; }).map(t => t.dataset.id)"
    )
    return ids


async def test_card_in_the_real_frontend(
    edge: EdgeProcess, hass_process: Hass, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    url = hass_process.url
    tokens = await onboard(session, url)
    token = tokens["access_token"]
    await _add_edge(session, url, token, edge)
    await _ws(
        session,
        url,
        token,
        {
            "type": "lovelace/config/save",
            "config": {
                "views": [
                    {
                        "title": "Cameras",
                        "path": "cameras",
                        "cards": [{"type": f"custom:{CARD}", "entity": CAMERA, "events": 8}],
                    }
                ]
            },
        },
    )

    errors: list[str] = []
    async with chromium(["--autoplay-policy=no-user-gesture-required"]) as browser:
        page = await _open_dashboard(
            browser,
            url,
            tokens,
            errors,
            tmp_path / "opening-desktop.png",
            viewport={"width": 1100, "height": 900},
        )
        card = page.locator(CARD)
        # In the card picker, with a stub config naming our camera.
        picker = await page.evaluate(
            "() => [window.customCards.find(c => c.type === 'peerwatch-card'),"
            " customElements.get('peerwatch-card').getStubConfig("
            "document.querySelector('home-assistant').hass).entity]"
        )
        assert picker[0]["name"] == "Peerwatch"
        assert picker[1] == CAMERA
        # The visual editor (HA's ha-form with an entity picker) edits the config it is given,
        # and a card built from its output renders.
        edited = await page.evaluate(
            """async (entity) => {
              const hass = document.querySelector('home-assistant').hass;
              const editor = customElements.get('peerwatch-card').getConfigElement();
              document.body.append(editor);
              editor.hass = hass;
              editor.setConfig({type: 'custom:peerwatch-card', entity, events: 12});
              const changed = new Promise(r => editor.addEventListener(
                'config-changed', e => r(e.detail.config)));
              await customElements.whenDefined('ha-form');
              const form = editor.querySelector('ha-form');
              await form.updateComplete;
              form.dispatchEvent(new CustomEvent('value-changed',
                {detail: {value: {...form.data, events: 4, live: false}}}));
              const config = await changed;
              const helpers = await window.loadCardHelpers();
              const card = helpers.createCardElement(config);
              card.hass = hass;
              document.body.append(card);
              const find = () => [...document.body.querySelectorAll('*')].find(
                e => e.localName === 'peerwatch-card' && e.shadowRoot?.querySelector('.name')
                  ?.textContent);
              for (let i = 0; i < 100 && !find(); i++) await new Promise(r => setTimeout(r, 100));
              const built = find();
              const result = [config, !!form.shadowRoot, built?.shadowRoot
                ?.querySelector('.name')?.textContent];
              editor.remove(); card.remove();
              return result;
            }""",
            CAMERA,
        )
        assert edited[0] == {
            "type": f"custom:{CARD}",
            "entity": CAMERA,
            "events": 4,
            "live": False,
        }
        assert edited[1], "ha-form rendered"
        assert edited[2] == CAMERA_NAME
        assert await card.locator(".name").text_content() == CAMERA_NAME
        privacy = card.locator("label.privacy ha-switch")
        await page.wait_for_function(
            "s => s.checked === true", arg=await privacy.element_handle(), timeout=WAIT_MS
        )

        # The live view plays through HA's own camera stream element (WebRTC).
        video = card.locator("ha-camera-stream video")
        await video.wait_for(state="attached", timeout=WAIT_MS)
        await page.wait_for_function(
            "v => v.readyState >= 2 && v.videoWidth > 0 && v.currentTime > 0",
            arg=await video.element_handle(),
            timeout=WAIT_MS,
            polling=500,
        )

        # Detections arrive with their thumbnails; a new one appears without a reload.
        tiles = f"{CARD} button.event"
        await card.locator("button.event img").first.wait_for(timeout=WAIT_MS)
        first = await page.locator(tiles).evaluate_all("ts => ts.map(t => t.dataset.id)")
        deadline = time.monotonic() + WAIT_MS / 1000
        new: list[str] = []
        while not new:
            assert time.monotonic() < deadline, f"no new detection after {first}"
            await page.wait_for_timeout(1000)
            loaded = await _loaded_images(page, tiles)
            new = [i for i in loaded if i not in first]
        assert await page.evaluate("() => performance.getEntriesByType('navigation').length") == 1
        assert await card.locator("button.event").first.get_attribute("data-id") == new[0]
        text = await card.locator("button.event .title").first.text_content()
        assert text is not None
        assert re.fullmatch(r"Person \d+%(Face)?", text), text
        await card.screenshot(path=tmp_path / "card-light-desktop.png")

        # A tap opens the detection's snapshot.
        await card.locator("button.event").first.click()
        snapshot = card.locator("dialog[open] img")
        await snapshot.wait_for(timeout=WAIT_MS)
        await page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0",
            arg=await snapshot.element_handle(),
            timeout=WAIT_MS,
        )
        assert "/snapshot.jpg?authSig=" in (await snapshot.get_attribute("src") or "")
        await page.screenshot(path=tmp_path / "card-snapshot.png")
        await card.locator("dialog button").click()

        # Phone width, dark theme (HA's default theme follows the browser's colour scheme).
        phone = await _open_dashboard(
            browser,
            url,
            tokens,
            errors,
            tmp_path / "opening-phone.png",
            viewport={"width": 390, "height": 844},
            device_scale_factor=2,
            color_scheme="dark",
        )
        phone_card = phone.locator(CARD)
        await phone_card.locator("button.event img").first.wait_for(timeout=WAIT_MS)
        box = await phone_card.bounding_box()
        assert box is not None
        assert box["width"] <= 390
        background = await phone_card.locator("ha-card").evaluate(
            "c => getComputedStyle(c).backgroundColor"
        )
        assert background != "rgb(255, 255, 255)", "dark theme"
        await phone.wait_for_function(
            "v => v.readyState >= 2 && v.videoWidth > 0 && v.currentTime > 0",
            arg=await phone_card.locator("ha-camera-stream video").element_handle(timeout=WAIT_MS),
            timeout=WAIT_MS,
            polling=500,
        )
        await phone.screenshot(path=tmp_path / "card-dark-phone.png")
    assert errors == []
