"""Benchmark: paired PWA start → first event shown, over WebRTC vs over direct HTTP.

One run on loopback with real parts: a registrar serving the built PWA, a real edge (fixture
video, real models, 200 stored events) registered with it, headless Chromium at phone size.
The PWA is paired once through its UI; then the timeline is opened in a fresh page RUNS times:
  * WebRTC: register with the registrar, DataChannel to the edge, hello/auth handshake, RPC;
  * baseline: the same build served by the edge's ingress site, plain same-origin HTTP.
Printed: median time from navigation start to the first event card and to its first thumbnail,
and the WebRTC/HTTP ratio. Goal: WebRTC first event < 1.5 s.
Usage: python bench/bench_pwa.py [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from playwright.async_api import BrowserContext  # noqa: E402

from tests.browser import chromium_profile  # noqa: E402
from tests.pwa.stack import PHONE, build_pwa, registrar_process, start_pwa_edge  # noqa: E402
from tests.support import EdgeProcess, free_port  # noqa: E402

GOAL_S = 1.5
MARKS = """
new MutationObserver((_, observer) => {
  if (!window.__firstEvent && document.querySelector("li.event-card")) {
    window.__firstEvent = performance.now();
  }
  const thumb = document.querySelector("li.event-card img.thumb");
  if (thumb && thumb.src.startsWith("blob:")) {
    thumb.decode().then(() => { window.__firstThumb ??= performance.now(); }, () => {});
    observer.disconnect();
  }
}).observe(document, {subtree: true, childList: true, attributes: true});
"""


async def pair(context: BrowserContext, url: str, edge: EdgeProcess) -> None:
    """Pair the PWA with the edge through its pairing screen."""
    page = await context.new_page()
    await page.goto(url)
    await page.locator("button.edge-option").wait_for(timeout=60000)
    code = (await asyncio.to_thread(edge.call, "POST", "/pairing"))["code"]
    await page.get_by_label("6-digit code").fill(code)
    await page.get_by_role("button", name="Pair", exact=True).click()
    await page.wait_for_url("**/#/timeline", timeout=30000)
    await page.close()


async def first_event(context: BrowserContext, url: str) -> tuple[float, float]:
    """Open the timeline in a fresh page; seconds to the first event card and its thumbnail."""
    page = await context.new_page()
    await page.goto(url)
    await page.wait_for_function("window.__firstThumb !== undefined", timeout=30000)
    marks = await page.evaluate("[window.__firstEvent, window.__firstThumb]")
    await page.close()
    await asyncio.sleep(0.5)  # the registrar and the edge see this page leave
    return marks[0] / 1000, marks[1] / 1000


async def measure(context: BrowserContext, url: str, runs: int) -> tuple[float, float]:
    """Median (first event, first thumbnail) over `runs` fresh starts, after one warm-up."""
    await first_event(context, url)
    samples = [await first_event(context, url) for _ in range(runs)]
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


async def run(runs: int) -> None:
    build_pwa()
    with tempfile.TemporaryDirectory(prefix="bench-pwa-") as tmp:
        work = Path(tmp)
        reg_port = free_port()
        registrar = registrar_process(reg_port, work / "registrar.log").start()
        url = f"http://127.0.0.1:{reg_port}/"
        try:
            edge = await asyncio.to_thread(start_pwa_edge, work, registrar=url, seed=200)
            try:
                async with chromium_profile(work / "profile", viewport=PHONE) as context:
                    await context.add_init_script(MARKS)
                    await pair(context, url, edge)
                    http = await measure(context, f"{edge.ingress_url}/#/timeline", runs)
                    rtc = await measure(context, url + "#/timeline", runs)
            finally:
                edge.stop(clean=False)
        finally:
            registrar.stop()
    print(f"PWA start -> first event shown (median of {runs} fresh page loads, loopback)")
    for name, (event, thumb) in (("direct HTTP (ingress, baseline)", http), ("WebRTC", rtc)):
        print(f"  {name:32s} first event {event:.3f} s, first thumbnail {thumb:.3f} s")
    ratio = (rtc[0] / http[0], rtc[1] / http[1])
    print(f"  ratio WebRTC / HTTP: first event {ratio[0]:.2f}x, thumbnail {ratio[1]:.2f}x")
    verdict = "met" if rtc[0] < GOAL_S else "NOT met"
    print(f"  goal first event < {GOAL_S} s over WebRTC: {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    asyncio.run(run(parser.parse_args().runs))


if __name__ == "__main__":
    main()
