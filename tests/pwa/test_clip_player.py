"""The PWA's clip player (pwa/src/lib/clip.js) in real Chromium, from the ES module sources, on a
real fragmented MP4 remuxed from the fixture video by FFmpeg (as the edge's recorder writes
them): the codec string comes from its avcC box; the parts are fetched as ranges with several in
flight and played through Media Source Extensions, or as a Blob URL where MSE is missing."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest
from playwright.async_api import Browser

from tests.support import VIDEO_PATH

pytestmark = pytest.mark.slow

PLAY = """async ([b64, noMse]) => {
    if (noMse) delete window.MediaSource;
    const { playClip, avcCodec, PART_BYTES } = await import("./lib/clip.js");
    const clip = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    let inFlight = 0, most = 0, ranges = 0;
    const transport = {
        async request(method, path, body, { headers }) {
            const [, a, b] = /^bytes=(\\d+)-(\\d+)$/.exec(headers.range);
            const end = Math.min(Number(b), clip.length - 1);
            inFlight++; ranges++; most = Math.max(most, inFlight);
            await new Promise((r) => setTimeout(r, 30));
            inFlight--;
            const answer = {"content-range": `bytes ${a}-${end}/${clip.length}`,
                            "peerwatch-clip": "complete"};
            return new Response(clip.slice(Number(a), end + 1), {status: 206, headers: answer});
        },
    };
    const scope = { signal: new AbortController().signal, alive: true,
                    objectUrl: (o) => URL.createObjectURL(o) };
    const video = document.createElement("video");
    video.muted = true;
    document.body.append(video);
    const mode = await playClip(video, transport, "/api/v1/events/x/clip.mp4", scope);
    await video.play();
    await new Promise((resolve) => {
        const check = () => video.currentTime > 0.5 ? resolve() : setTimeout(check, 50);
        check();
    });
    return { mode, codec: avcCodec(clip.subarray(0, PART_BYTES)), most, ranges,
             parts: Math.ceil(clip.length / PART_BYTES), width: video.videoWidth };
}"""


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The fixture video remuxed (no re-encode) into fragmented MP4, 4 s."""
    path: Path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    argv = ["ffmpeg", "-v", "error", "-i", str(VIDEO_PATH), "-t", "4", "-an", "-c", "copy"]
    argv += ["-movflags", "frag_keyframe+empty_moov+default_base_moof", str(path)]
    subprocess.run(argv, check=True, timeout=60)
    return path.read_bytes()


@pytest.mark.parametrize(("no_mse", "mode"), [(False, "mse"), (True, "blob")])
async def test_clip_plays_from_ranged_parts(
    browser: Browser, src_server: str, clip: bytes, no_mse: bool, mode: str
) -> None:
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(f"{src_server}/index.html")
    played = await page.evaluate(PLAY, [base64.b64encode(clip).decode(), no_mse])
    assert played["mode"] == mode
    assert played["codec"] == "avc1.640028"  # High profile, level 4.0 (ffprobe of the fixture)
    assert played["width"] == 1280
    assert played["ranges"] == played["parts"] > 1
    assert played["most"] > 1  # parts overlap in flight
    assert not errors, errors
