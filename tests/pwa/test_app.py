"""The built PWA served by a real registrar in real Chromium at phone size: installable
(manifest, icons, service worker), starts offline from its cached shell, shows the pairing
screen, and re-registers when the registrar restarts."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Callable

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.browser import chromium
from tests.pwa.stack import PHONE
from tests.support import ServerProcess

pytestmark = pytest.mark.slow


async def open_app(browser: Browser, url: str) -> tuple[Page, list[str]]:
    context = await browser.new_context(viewport=PHONE, device_scale_factor=2)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    await page.goto(url)
    return page, errors


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


async def test_installable_and_offline_start(
    profile_context: BrowserContext, registrar_factory: Callable[..., ServerProcess]
) -> None:
    reg = registrar_factory()
    url = f"http://127.0.0.1:{reg.port}/"
    page = await profile_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(url)

    manifest = await page.evaluate(
        """async () => {
            const href = document.querySelector('link[rel=manifest]').href;
            return (await fetch(href)).json();
        }"""
    )
    assert manifest["display"] == "standalone"
    assert manifest["start_url"] == "./"
    sizes = {}
    for icon in manifest["icons"]:
        resp = await page.request.get(url + icon["src"])
        assert resp.ok, icon
        if icon["type"] == "image/png":
            sizes[icon["src"]] = png_size(await resp.body())
        else:
            assert b"<svg" in await resp.body()
    assert sizes == {
        "icon-192.png": (192, 192),
        "icon-512.png": (512, 512),
        "icon-maskable-512.png": (512, 512),
    }

    scope = await page.evaluate("async () => (await navigator.serviceWorker.ready).scope")
    assert scope == url
    cdp = await page.context.new_cdp_session(page)
    app_manifest = await cdp.send("Page.getAppManifest", {})
    assert not app_manifest["errors"], app_manifest["errors"]
    installability = await cdp.send("Page.getInstallabilityErrors")
    assert installability["installabilityErrors"] == []

    caches = await page.evaluate(
        """async () => {
            const names = await caches.keys();
            const cache = await caches.open(names[0]);
            return {names, urls: (await cache.keys()).map((r) => new URL(r.url).pathname)};
        }"""
    )
    assert len(caches["names"]) == 1
    assert caches["names"][0].startswith("peerwatch-shell-0.1.0-")
    assert {"/", "/index.html", "/app.js", "/app.css", "/manifest.webmanifest"} <= set(
        caches["urls"]
    )

    # The registrar is gone: the cached shell still starts and says what is wrong.
    reg.stop()
    await page.reload()
    await expect(page.locator("header.topbar h1")).to_have_text("Peerwatch")
    await expect(page.locator(".pill")).to_have_attribute("data-phase", "offline")
    await expect(page.locator(".banner")).to_contain_text("Signaling server unreachable")
    await expect(page.locator(".banner")).to_contain_text("retrying in")
    assert not errors, errors


async def test_pairing_screen_and_registrar_restart(
    browser: Browser, registrar_factory: Callable[..., ServerProcess]
) -> None:
    reg = registrar_factory()
    page, errors = await open_app(browser, f"http://127.0.0.1:{reg.port}/")
    await expect(page).to_have_url(f"http://127.0.0.1:{reg.port}/#/pair")
    await expect(page.locator(".pill")).to_have_attribute("data-phase", "unpaired")
    await expect(page.locator(".searching")).to_be_visible()
    await expect(page.get_by_label("6-digit code")).to_be_visible()
    await expect(page.get_by_role("button", name="Pair", exact=True)).to_be_disabled()
    code = page.get_by_label("6-digit code")
    await code.fill("12ab34")
    await expect(code).to_have_value("1234")
    app_id = await page.evaluate(
        """() => new Promise((resolve) => {
            const req = indexedDB.open("peerwatch");
            req.onsuccess = () => {
                const get = req.result.transaction("kv").objectStore("kv").get("appId");
                get.onsuccess = () => resolve(get.result);
            };
        })"""
    )
    assert app_id.startswith("pw-app-")
    assert len(app_id) == len("pw-app-") + 32

    reg.stop()
    await expect(page.locator(".pill")).to_have_attribute("data-phase", "offline")
    await asyncio.to_thread(registrar_factory, port=reg.port, name="registrar-restarted")
    await expect(page.locator(".pill")).to_have_attribute("data-phase", "unpaired", timeout=15000)
    assert not errors, errors


async def test_plain_http_address_explains_https_is_needed(
    registrar_factory: Callable[..., ServerProcess],
) -> None:
    """Opened from a LAN-style http:// name (not localhost) the page is no secure context, so
    WebCrypto and service workers are off: the app says so instead of failing silently."""
    reg = registrar_factory()
    rules = "--host-resolver-rules=MAP registrar.lan 127.0.0.1"
    async with chromium([rules]) as browser:
        page = await browser.new_page(viewport=PHONE)
        await page.goto(f"http://registrar.lan:{reg.port}/")
        alert = page.get_by_role("alert")
        await expect(alert).to_contain_text("Peerwatch cannot start")
        await expect(alert).to_contain_text("https://")
