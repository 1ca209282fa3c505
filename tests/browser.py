"""Headless Debian Chromium for the tests and benchmarks, launched one way everywhere."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, BrowserContext, async_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


@asynccontextmanager
async def chromium(extra_args: Sequence[str] = ()) -> AsyncIterator[Browser]:
    """A fresh headless Chromium (incognito contexts), closed on leaving."""
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *extra_args]
        )
        try:
            yield browser
        finally:
            await browser.close()


@asynccontextmanager
async def chromium_profile(profile: Path, **options: Any) -> AsyncIterator[BrowserContext]:
    """Chromium with a real (non-incognito) profile kept in `profile`, as an installed app has;
    `options` are Playwright's context options (viewport, device_scale_factor…)."""
    async with async_playwright() as pw:
        context = await pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=list(CHROMIUM_ARGS), **options
        )
        try:
            yield context
        finally:
            await context.close()
