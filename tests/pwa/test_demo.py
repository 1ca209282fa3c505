"""The demo as a new user meets it: `scripts/demo.py` (real registrar, real edge on the sample
clip) in real Chromium at phone size. The terminal keeps the banner and a line per detection
(the logs go to demo-data/demo.log, the pairing code at INFO); a spent code gets the "pairing
closed" message naming what to do on Home Assistant and on a plain edge; Enter in the terminal
and `demo.py --pair` print fresh codes; two browsers get names that differ and can be renamed;
the timeline shows each kind's icon and "Person · Front door"."""

from __future__ import annotations

import asyncio
import re
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from tests.pwa.stack import PHONE
from tests.support import PYTHON, REPO, free_port, wait_for

pytestmark = pytest.mark.slow

CODE = re.compile(r"Pairing code:\s+(\d{6})")


class Demo:
    """`scripts/demo.py` on free ports with its terminal on pipes."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.ports = ["--registrar-port", str(free_port()), "--api-port", str(free_port())]
        self.url = f"http://127.0.0.1:{self.ports[1]}/"
        argv = [PYTHON, str(REPO / "scripts" / "demo.py"), "--data-dir", str(data_dir)]
        self.proc = subprocess.Popen(
            argv + self.ports,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def codes(self) -> list[str]:
        """Every pairing code the terminal showed, oldest first."""
        return [m[1] for line in self.lines if (m := CODE.search(line))]

    def wait_code(self, count: int) -> str:
        """Wait until the terminal showed `count` codes; return the newest."""
        codes = wait_for(lambda: self.codes()[count - 1 :] or None, f"pairing code {count}", 120)
        return codes[-1]

    def enter(self) -> None:
        """Press Enter in the demo's terminal."""
        assert self.proc.stdin is not None
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()

    def pair_command(self) -> str:
        """Run `demo.py --pair` against this demo; return its output."""
        argv = [PYTHON, str(REPO / "scripts" / "demo.py"), "--data-dir", str(self.data_dir)]
        done = subprocess.run(
            [*argv, *self.ports, "--pair"], capture_output=True, text=True, timeout=30, check=True
        )
        return done.stdout

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture
def demo(tmp_path: Path, pwa_dist: Path) -> Iterator[Demo]:
    assert pwa_dist.is_dir()
    running = Demo(tmp_path / "demo-data")
    yield running
    running.stop()


async def pair(page: Page, code: str) -> str:
    """Pair through the UI with `code`; return the device name the app suggested."""
    await expect(page.locator("button.edge-option")).to_contain_text("Ready to pair", timeout=60000)
    name = await page.get_by_label("Name of this device").input_value()
    await page.get_by_label("6-digit code").fill(code)
    await page.get_by_role("button", name="Pair", exact=True).click()
    return name


async def test_demo_first_five_minutes(browser: Browser, demo: Demo) -> None:
    first = await asyncio.to_thread(demo.wait_code, 1)
    banner = "\n".join(demo.lines)
    assert "Open the app:" in banner
    assert "demo.log" in banner
    log = demo.data_dir / "demo.log"
    assert re.search(rf"INFO .*enter code {first}", log.read_text()), log.read_text()[-2000:]

    one = await browser.new_context(viewport=PHONE)
    page = await one.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(demo.url)
    name_one = await pair(page, first)
    await expect(page.locator(".pill")).to_have_attribute("data-phase", "online", timeout=20000)

    # A second browser with the spent code: told what to do for a new one, on HA and plain edges.
    two = await browser.new_context(viewport=PHONE)
    other = await two.new_page()
    other.on("pageerror", lambda exc: errors.append(str(exc)))
    await other.goto(demo.url)
    option = other.locator("button.edge-option")
    await expect(option).to_contain_text("Pairing closed", timeout=60000)
    await other.get_by_label("6-digit code").fill(first)
    await other.get_by_role("button", name="Pair", exact=True).click()
    alert = other.get_by_role("alert")
    await expect(alert).to_contain_text("pairing window is closed")
    await expect(alert).to_contain_text("Home Assistant")
    await expect(alert).to_contain_text("press Enter in its terminal")

    # Enter in the demo's terminal, and `demo.py --pair`: fresh codes.
    await asyncio.to_thread(demo.enter)
    second = await asyncio.to_thread(demo.wait_code, 2)
    assert second != first
    printed = await asyncio.to_thread(demo.pair_command)
    third = CODE.search(printed)
    assert third, printed
    name_two = await pair(other, third[1])
    await expect(other.locator(".pill")).to_have_attribute("data-phase", "online", timeout=20000)
    assert name_one != name_two
    assert name_one.startswith("Chrome on Linux · "), name_one

    # Rename the other browser from the first one's device list.
    await page.get_by_role("link", name="Devices").click()
    await expect(page.locator("li.device")).to_have_count(2)
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept("Kitchen tablet")))
    await page.get_by_role("button", name=f"Rename {name_two}").click()
    await expect(page.locator("li.device").nth(1)).to_contain_text("Kitchen tablet")

    # Detections: one short line each in the terminal; the timeline's icons follow the kind.
    await page.get_by_role("link", name="Timeline").click()
    card = page.locator("li.event-card").first
    await expect(card).to_contain_text("Person · Front door", timeout=90000)
    await expect(card.locator(".thumb-kind")).to_have_attribute("data-kind", "person")
    line = await asyncio.to_thread(
        wait_for,
        lambda: next((x for x in demo.lines if "Person · Front door" in x), None),
        "a detection line",
        60,
    )
    assert len(line) < 80, line
    assert not [x for x in demo.lines if " INFO " in x or " WARNING " in x], demo.lines
    assert not errors, errors


async def test_kind_icons_and_titles(browser: Browser, src_server: str) -> None:
    """Each kind and label gets its own icon and words."""
    page = await browser.new_page()
    await page.goto(f"{src_server}/index.html")
    seen = await page.evaluate(
        """async () => {
            const { eventKind, eventTitle } = await import("./ui/dom.js");
            const events = [
                {kind: "object", label: "person"}, {kind: "face", label: "face"},
                {kind: "fall", label: "fall"}, {kind: "object", label: "dog"},
                {kind: "object", label: "umbrella"},
            ];
            return events.map((e) => [eventKind(e).icon, eventTitle(e, "Front door")]);
        }"""
    )
    assert seen == [
        ["person", "Person · Front door"],
        ["face", "Face · Front door"],
        ["fall", "Fall · Front door"],
        ["dog", "Dog · Front door"],
        ["object", "Umbrella · Front door"],
    ]
