"""The PWA served by a real edge's ingress site (as Home Assistant's panel shows it): it talks to
the same-origin API over HTTP, lists the camera with a live snapshot, shows the person event from
the fixture video with its thumbnail and snapshot, and plays live video over WebRTC.

Home Assistant's ingress proxy cannot run here; the edge is told to accept ingress requests from
127.0.0.1 instead of the Supervisor's address (PEERWATCH_INGRESS_ALLOW)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable

import pytest
from playwright.async_api import Browser, Page, Route, expect

from tests.pwa.stack import PHONE, wait_for_event
from tests.support import EdgeProcess, wait_for

pytestmark = pytest.mark.slow

FULL_SNAPSHOT = (
    "() => { const i = document.querySelector('img.event-snapshot');"
    " return i && i.src.startsWith('blob:') && !i.classList.contains('preview')"
    " && i.naturalWidth > 320; }"
)
"""The event view shows the full snapshot, not the thumbnail standing in for it."""
SNAPSHOTS = "**/api/v1/events/*/snapshot.jpg"


async def wait_for_video(page: Page) -> None:
    """Wait until the live video element plays real frames (size known, time advancing)."""
    video = page.locator("video.live-video")
    await expect(video).to_be_visible()
    await page.wait_for_function(
        "() => { const v = document.querySelector('video.live-video');"
        " return v && v.videoWidth > 0 && v.currentTime > 0.5; }",
        timeout=30000,
    )
    await expect(page.locator(".live-head .badge.live")).to_be_visible()


async def no_shot(_name: str) -> None:
    """Screenshots are not wanted."""


async def check_clip(page: Page, edge: EdgeProcess, event_id: str, mode: str) -> None:
    """Once the event's clip is complete, the event view plays it (loaded the `mode` way: "url"
    or "mse") in place of the snapshot: real frames, time advancing."""
    await asyncio.to_thread(
        wait_for,
        lambda: edge.call("GET", f"/events/{event_id}")["clip_duration"],
        "the event's clip complete",
        90,
    )
    await page.get_by_role("button", name=re.compile(r"^Play clip · \d+ s$")).click()
    clip = page.locator("video.event-clip")
    await expect(clip).to_have_attribute("data-mode", mode)
    await page.wait_for_function(
        "() => { const v = document.querySelector('video.event-clip');"
        " return v && v.videoWidth > 0 && v.currentTime > 0.5; }",
        timeout=30000,
    )


async def check_screens(
    page: Page,
    edge: EdgeProcess,
    shot: Callable[[str], Awaitable[None]] = no_shot,
    clip_mode: str = "url",
) -> str:
    """Cameras → timeline → event detail with its clip → live view, all with real data from
    `edge`; `shot(name)` is called on each screen once it shows its data. Returns the event's
    id."""
    camera = page.locator("article.camera[data-camera=door]")
    await expect(camera).to_contain_text("Front door")
    await expect(camera.locator(".dot")).to_have_class("dot online", timeout=20000)
    await page.wait_for_function(
        "() => { const i = document.querySelector('article.camera img.snapshot');"
        " return i && i.src.startsWith('blob:') && i.naturalWidth > 0; }",
        timeout=20000,
    )
    await shot("cameras")

    event = await asyncio.to_thread(wait_for_event, edge, "person")
    await page.get_by_role("link", name="Timeline").click()
    card = page.locator(f"li.event-card[data-id='{event['id']}']")
    await expect(card).to_contain_text("Person")
    await expect(card).to_contain_text("Front door")
    await page.wait_for_function(
        "(id) => { const i = document.querySelector(`li.event-card[data-id='${id}'] img.thumb`);"
        " return i && i.src.startsWith('blob:') && i.naturalWidth > 0; }",
        arg=event["id"],
        timeout=20000,
    )
    await shot("timeline")

    await card.locator("a").click()
    await expect(page.locator("#event-title")).to_have_text("Person · Front door")
    await page.wait_for_function(FULL_SNAPSHOT, timeout=20000)
    await shot("event")
    await check_clip(page, edge, event["id"], clip_mode)

    await page.get_by_role("link", name="Live view").click()
    await wait_for_video(page)
    await shot("live")
    return event["id"]


async def check_endless_scroll(page: Page, seeded: int) -> None:
    """Scrolling the timeline down loads older pages until the seeded history is all there."""
    await page.get_by_role("link", name="Timeline").click()
    cards = page.locator("li.event-card")
    await expect(cards.first).to_be_visible()
    for _ in range(10):
        await page.mouse.wheel(0, 20000)
        if await page.get_by_text("That's everything.").is_visible():
            break
        await page.wait_for_timeout(300)
    await expect(page.get_by_text("That's everything.")).to_be_visible()
    ids = await cards.evaluate_all("(els) => els.map((e) => e.dataset.id)")
    assert len(ids) == len(set(ids))
    assert {f"seed{i:04d}" for i in range(seeded)} <= set(ids)
    assert ids[-1] == f"seed{seeded - 1:04d}"
    last = page.locator(f"li.event-card[data-id='seed{seeded - 1:04d}'] img.thumb")
    await last.scroll_into_view_if_needed()
    await expect(last).to_have_attribute("src", re.compile(r"^blob:"))
    # The looping clip brings a new event; pushed to the top, it leaves the end of the list as is.
    await expect(cards).not_to_have_count(len(ids), timeout=30000)
    await expect(page.get_by_text("That's everything.")).to_be_visible()


async def check_snapshot_preview(page: Page, event_id: str) -> None:
    """While the full snapshot is on its way, the event shows the thumbnail, blurred; then the
    snapshot replaces it. The snapshot's response is held until the preview has been seen."""
    release = asyncio.Event()

    async def hold(route: Route) -> None:
        await release.wait()
        await route.continue_()

    await page.route(SNAPSHOTS, hold)
    await page.get_by_role("link", name="Timeline").click()
    await page.locator(f"li.event-card[data-id='{event_id}'] a").click()
    await page.wait_for_function(
        "() => { const i = document.querySelector('img.event-snapshot.preview');"
        " return i && i.naturalWidth > 0 && i.naturalWidth <= 320; }",
        timeout=20000,
    )
    release.set()
    await page.wait_for_function(FULL_SNAPSHOT, timeout=20000)
    await page.unroute(SNAPSHOTS, hold)


async def test_ingress_panel_shows_cameras_events_and_live_video(
    browser: Browser, edge_factory: Callable[..., EdgeProcess]
) -> None:
    edge = await asyncio.to_thread(edge_factory, seed=45)
    context = await browser.new_context(viewport=PHONE)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(f"{edge.ingress_url}/")
    await expect(page.locator(".pill")).to_have_attribute("data-phase", "online")
    await expect(page.locator("header.topbar h1")).to_have_text("Home")
    event_id = await check_screens(page, edge)
    await check_snapshot_preview(page, event_id)
    await check_endless_scroll(page, seeded=45)
    await page.get_by_role("link", name="Settings").click()
    await expect(page.locator("main")).to_contain_text("Opened through Home Assistant")
    assert not errors, errors
