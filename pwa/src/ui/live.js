// Live view of one camera over its own receive-only WebRTC connection. Nothing covers the
// picture (the camera draws its own overlay text): the LIVE badge sits beside the camera's name
// under it, and "Restart video" shows only once the video stopped or failed.

import { h, icon } from "./dom.js";

export function renderLive(ctx, scope, { camera }) {
  const { transport } = ctx;
  const video = h("video.live-video", { autoplay: true, muted: true, playsInline: true, "aria-label": `Live video of ${ctx.cameraName(camera)}` });
  video.muted = true;
  const status = h("p.muted", { role: "status" }, "Starting live video…");
  const badge = h("span.badge.live", { hidden: true }, "LIVE");
  const restart = h("button", { type: "button", hidden: true, onclick: () => { current?.close(); current = null; start(); } }, icon("restart"), "Restart video");
  let current = null;

  function stopped(text) {
    badge.hidden = true;
    status.hidden = false;
    status.textContent = text;
    restart.hidden = false;
  }

  async function start() {
    if (!scope.alive || current) return;
    status.hidden = false;
    status.textContent = "Starting live video…";
    restart.hidden = true;
    try {
      await transport.whenReady();
      const v = await transport.openVideo(camera);
      if (!scope.alive) return v.close();
      current = v;
      video.srcObject = v.stream;
      v.pc.addEventListener("connectionstatechange", () => {
        const s = v.pc.connectionState;
        if (s === "failed" || s === "closed" || s === "disconnected") {
          stopped("Live video stopped.");
          if (current === v) current = null;
          v.close();
        }
      });
    } catch (err) {
      if (scope.alive) stopped(`Live video unavailable: ${err.message}`);
    }
  }

  video.addEventListener("playing", () => {
    status.hidden = true;
    badge.hidden = false;
    restart.hidden = true;
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
    h("div.video-frame", {}, video),
    h("div.live-head", {}, h("h2", {}, ctx.cameraName(camera)), badge),
    status,
    restart,
  );
}
