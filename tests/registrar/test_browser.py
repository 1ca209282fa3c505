"""The real npm `peerjs` 1.5.5 client in headless Chromium against the registrar: two pages get
ids, open a DataChannel negotiated through it, exchange data and meet in the same room.

The page is served from the registrar's `--static` directory at http://127.0.0.1, while the
PeerJS client talks to http://localhost: another origin, so CORS is exercised for real.
"""

from __future__ import annotations

import shutil

import pytest

from tests.browser import chromium
from tests.support import REPO

pytestmark = pytest.mark.slow

PEERJS = REPO / "pwa" / "node_modules" / "peerjs" / "dist" / "peerjs.min.js"

PAGE = """<!doctype html><meta charset="utf-8"><script src="peerjs.min.js"></script>
<script>
const log = [];
window.received = [];
window.startPeer = (port) => new Promise((resolve, reject) => {
  const peer = new Peer({host: "localhost", port, path: "/", key: "peerjs", secure: false,
                         config: {iceServers: []}});
  window.peer = peer;
  peer.on("open", (id) => resolve(id));
  peer.on("error", (err) => reject(err.type + ": " + err.message));
  peer.on("connection", (conn) => {
    conn.on("data", (data) => { window.received.push(data); conn.send({echo: data}); });
  });
});
window.talk = (dst) => new Promise((resolve, reject) => {
  const conn = window.peer.connect(dst, {reliable: true, serialization: "json"});
  conn.on("open", () => conn.send({hello: window.peer.id, bytes: "é".repeat(3)}));
  conn.on("data", (data) => resolve(data));
  conn.on("error", (err) => reject(String(err)));
  setTimeout(() => reject("no answer in 20 s"), 20000);
});
window.room = async (port) => {
  const base = `http://localhost:${port}/peerjs/${peer.id}/${peer.options.token}/room`;
  const {roomId} = await (await fetch(`${base}/id?ts=${Date.now()}`)).json();
  const joined = await (await fetch(`${base}/${roomId}/join`, {
    method: "POST", headers: {"Content-Type": "application/json"}, body: "{}"})).json();
  const members = await (await fetch(`${base}/${roomId}/members`)).json();
  return {roomId, joined, members};
};
</script>"""


async def test_peerjs_in_chromium(registrar_factory, tmp_path) -> None:
    assert PEERJS.is_file(), "run `make setup`: pwa/node_modules has the peerjs client"
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(PAGE)
    shutil.copy(PEERJS, site / "peerjs.min.js")
    reg = registrar_factory("--static", str(site))
    page_url = f"http://127.0.0.1:{reg.port}/"

    async with chromium() as browser:
        pages = []
        for _ in range(2):
            context = await browser.new_context()
            page = await context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
            await page.goto(page_url)
            pages.append((page, errors))
        (one, one_errors), (two, two_errors) = pages
        id_one = await one.evaluate("(port) => startPeer(port)", reg.port)
        id_two = await two.evaluate("(port) => startPeer(port)", reg.port)
        assert id_one != id_two
        assert len(id_one) == 36  # a UUID from GET /peerjs/id

        reply = await two.evaluate("(dst) => talk(dst)", id_one)
        assert reply == {"echo": {"hello": id_two, "bytes": "ééé"}}
        assert await one.evaluate("window.received") == [{"hello": id_two, "bytes": "ééé"}]

        first = await one.evaluate("(port) => room(port)", reg.port)
        second = await two.evaluate("(port) => room(port)", reg.port)
        assert first["roomId"] == second["roomId"]
        assert first["joined"] == {"clientsIds": [id_one]}
        assert second["joined"] == {"clientsIds": sorted([id_one, id_two])}
        assert second["members"] == sorted([id_one, id_two])
        assert one_errors == two_errors == []
