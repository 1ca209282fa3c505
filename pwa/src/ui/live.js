// Live view of one camera over its own receive-only WebRTC connection.

import { h } from "./dom.js";

export function renderLive(ctx, scope, { camera }) {
  const { transport } = ctx;
  const video = h("video.live-video", { autoplay: true, muted: true, playsInline: true, "aria-label": `Live video of ${ctx.cameraName(camera)}` });
  video.muted = true;
  const status = h("p.muted", { role: "status" }, "Starting live video…");
  const badge = h("span.badge.live", { hidden: true }, "LIVE");
  let current = null;

  async function start() {
    if (!scope.alive || current) return;
    status.hidden = false;
    status.textContent = "Starting live video…";
    try {
      await transport.whenReady();
      const v = await transport.openVideo(camera);
      if (!scope.alive) return v.close();
      current = v;
      video.srcObject = v.stream;
      v.pc.addEventListener("connectionstatechange", () => {
        const s = v.pc.connectionState;
        if (s === "failed" || s === "closed" || s === "disconnected") {
          badge.hidden = true;
          status.hidden = false;
          status.textContent = "Live video stopped.";
          if (current === v) current = null;
          v.close();
        }
      });
    } catch (err) {
      if (scope.alive) status.textContent = `Live video unavailable: ${err.message}`;
    }
  }

  video.addEventListener("playing", () => {
    status.hidden = true;
    badge.hidden = false;
  });
  scope.listen(transport, "ready", start);
  scope.defer(() => {
    current?.close();
    video.srcObject = null;
  });
  start();
  return h(
    "section.live",
    { "aria-label": "Live view" },
    h("div.video-frame", {}, video, badge),
    h("h2", {}, ctx.cameraName(camera)),
    status,
    h("button", { type: "button", onclick: () => { current?.close(); current = null; start(); } }, "Restart video"),
  );
}
