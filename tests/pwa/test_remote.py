"""The whole remote path with real parts on loopback: a registrar serving the PWA, a real edge
(file camera, real models) registered with it, and Chromium at phone size. The PWA finds the
edge in its room, is refused while no pairing window is open and with a wrong code, pairs with
the code from `POST /api/v1/pairing`, then shows the person event with its snapshot and live
video over the authenticated DataChannel, survives a registrar restart, starts again paired,
and reconnects by itself when the edge restarts.

Set PEERWATCH_SCREENSHOTS=docs/screenshots to save the README screenshots from this run."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from playwright.async_api import Browser, Page, expect

from tests.pwa.stack import PHONE
from tests.pwa.test_ingress import check_screens
from tests.support import EdgeProcess, ServerProcess

pytestmark = pytest.mark.slow

SCREENSHOTS = os.environ.get("PEERWATCH_SCREENSHOTS")
KV_GET = """(key) => new Promise((resolve) => {
    const req = indexedDB.open("peerwatch");
    req.onsuccess = () => {
        const get = req.result.transaction("kv").objectStore("kv").get(key);
        get.onsuccess = () => { req.result.close(); resolve(get.result); };
    };
})"""


async def shot(page: Page, name: str) -> None:
    """Save a README screenshot when asked to (PEERWATCH_SCREENSHOTS=dir)."""
    if SCREENSHOTS:
        await expect(page.locator(".toast")).to_have_count(0, timeout=10000)
        await page.evaluate("scrollTo(0, 0)")
        await page.wait_for_timeout(300)
        path = Path(SCREENSHOTS) / f"{name}.png"
        await page.screenshot(path=str(path))
        await asyncio.to_thread(compress, path)


def compress(path: Path) -> None:
    """Shrink a screenshot for the repository: 256 colours, dithered."""
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(256, dither=Image.Dither.FLOYDSTEINBERG)
    small.save(path, optimize=True)


async def pair(page: Page, edge: EdgeProcess) -> None:
    """Pair through the UI: closed window, wrong code, then the right one."""
    option = page.locator("button.edge-option")
    await expect(option).to_contain_text("Home", timeout=30000)
    await expect(option).to_contain_text("Pairing closed")
    code_box = page.get_by_label("6-digit code")
    pair_button = page.get_by_role("button", name="Pair", exact=True)
    error = page.get_by_role("alert")

    await code_box.fill("123456")
    await pair_button.click()
    await expect(error).to_contain_text("pairing window is closed")

    code = (await asyncio.to_thread(edge.call, "POST", "/pairing"))["code"]
    await expect(option).to_contain_text("Ready to pair", timeout=30000)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    await code_box.fill(wrong)
    await pair_button.click()
    await expect(error).to_contain_text("That code is not right", timeout=15000)

    await code_box.fill(code)
    await expect(error).to_be_hidden()
    await shot(page, "pairing")
    await pair_button.click()
    await expect(page).to_have_url(f"{page.url.split('#')[0]}#/timeline", timeout=15000)
    await expect(page.locator(".pill")).to_have_attribute("data-phase", "online")


async def test_pair_view_events_live_video_and_reconnect(
    browser: Browser,
    registrar_factory: Callable[..., ServerProcess],
    edge_factory: Callable[..., EdgeProcess],
) -> None:
    reg = registrar_factory()
    url = f"http://127.0.0.1:{reg.port}/"
    edge = await asyncio.to_thread(edge_factory, registrar=url, seed=12)
    context = await browser.new_context(viewport=PHONE, device_scale_factor=2)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(url)
    await pair(page, edge)
    pairing = await page.evaluate(KV_GET, "pairing")
    devices = (await asyncio.to_thread(edge.call, "GET", "/devices"))["devices"]
    assert [d["id"] for d in devices] == [pairing["device_id"]]
    assert pairing["edge_id"] == (await asyncio.to_thread(edge.call, "GET", "/info"))["peer_id"]

    await page.get_by_role("link", name="Cameras").click()
    await check_screens(page, edge, lambda name: shot(page, name), clip_mode="mse")

    await page.get_by_role("link", name="Devices").click()
    device = page.locator(f"li.device[data-device='{pairing['device_id']}']")
    await expect(device).to_contain_text("This device")
    await shot(page, "devices")

    # The registrar restarts: the channel to the edge stays up, the PWA registers again.
    reg.stop()
    await expect(page.locator(".pill")).to_have_attribute("data-registrar", "offline")
    await expect(page.locator(".pill")).to_have_attribute("data-phase", "online")
    await asyncio.to_thread(registrar_factory, port=reg.port, name="registrar-restarted")
    await expect(page.locator(".pill")).to_have_attribute("data-registrar", "online", timeout=30000)

    # A fresh start of the paired app goes through the new registrar straight to the edge.
    await page.goto(url + "#/timeline")
    await expect(page.locator(".pill")).to_have_attribute("data-phase", "online", timeout=30000)
    await expect(page.locator("li.event-card").first).to_contain_text("Person")

    # The edge goes away: the app says so and keeps trying; the edge comes back (same data dir,
    # same peer id and certificate) and the app is connected again without any user action.
    await asyncio.to_thread(edge.server.stop)
    await expect(page.locator(".banner")).to_contain_text("Home is unreachable", timeout=30000)
    await expect(page.locator(".banner")).to_contain_text("retrying in")
    await asyncio.to_thread(edge_factory, registrar=url)
    await expect(page.locator(".pill")).to_have_attribute("data-phase", "online", timeout=45000)
    await expect(page.locator(".banner")).to_be_hidden()
    assert not errors, errors


KV_SET = """([key, value]) => new Promise((resolve, reject) => {
    const req = indexedDB.open("peerwatch");
    req.onsuccess = () => {
        const tx = req.result.transaction("kv", "readwrite");
        tx.objectStore("kv").put(value, key);
        tx.oncomplete = () => { req.result.close(); resolve(); };
        tx.onerror = () => reject(tx.error);
    };
})"""


async def test_pin_mismatch_revoked_device_and_forget(
    browser: Browser,
    registrar_factory: Callable[..., ServerProcess],
    edge_factory: Callable[..., EdgeProcess],
) -> None:
    """The PWA refuses an edge whose certificate is not the pinned one, tells a revoked device
    to pair again, and "Forget this edge" revokes it on the edge and returns to pairing."""
    reg = registrar_factory()
    url = f"http://127.0.0.1:{reg.port}/"
    edge = await asyncio.to_thread(edge_factory, registrar=url)
    context = await browser.new_context(viewport=PHONE)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await page.goto(url)
    await expect(page.locator("button.edge-option")).to_contain_text("Home", timeout=30000)
    code = (await asyncio.to_thread(edge.call, "POST", "/pairing"))["code"]
    await page.get_by_label("6-digit code").fill(code)
    await page.get_by_role("button", name="Pair", exact=True).click()
    await expect(page.locator(".pill")).to_have_attribute("data-phase", "online", timeout=15000)
    pairing = await page.evaluate(KV_GET, "pairing")
    pill, banner = page.locator(".pill"), page.locator(".banner")

    # As if a registrar had put another peer (another certificate) where the edge should be.
    forged = {**pairing, "fingerprint": "sha-256 " + ":".join(["AB"] * 32)}
    await page.evaluate(KV_SET, ["pairing", forged])
    await page.reload()
    await expect(pill).to_have_attribute("data-phase", "refused", timeout=15000)
    await expect(banner).to_contain_text("Security check failed")
    await page.evaluate(KV_SET, ["pairing", pairing])
    await page.reload()
    await expect(pill).to_have_attribute("data-phase", "online", timeout=15000)

    await asyncio.to_thread(edge.call, "DELETE", f"/devices/{pairing['device_id']}")
    await page.reload()
    await expect(pill).to_have_attribute("data-phase", "refused", timeout=15000)
    await expect(banner).to_contain_text("Pair it again")

    # Pair again, then forget the edge from Settings: revoked there, back to pairing here.
    await page.evaluate("indexedDB.deleteDatabase('peerwatch')")
    await page.goto(url)
    await expect(page.locator("button.edge-option")).to_contain_text("Home", timeout=30000)
    code = (await asyncio.to_thread(edge.call, "POST", "/pairing"))["code"]
    await page.get_by_label("6-digit code").fill(code)
    await page.get_by_role("button", name="Pair", exact=True).click()
    await expect(pill).to_have_attribute("data-phase", "online", timeout=15000)
    await page.get_by_role("link", name="Settings").click()
    await page.get_by_role("button", name="Forget this edge").click()
    await expect(page).to_have_url(f"{url}#/pair", timeout=15000)
    await expect(page.locator("button.edge-option")).to_contain_text("Home", timeout=30000)
    assert (await asyncio.to_thread(edge.call, "GET", "/devices"))["devices"] == []
    assert not errors, errors
