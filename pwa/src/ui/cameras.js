// Camera list: status, last frame, a live snapshot, detection switch.

import { formatAgo, h, icon } from "./dom.js";

const SNAPSHOT_REFRESH_MS = 10000;

export function renderCameras(ctx, scope) {
  const { transport } = ctx;
  const grid = h("div.camera-grid", { "aria-live": "polite" });
  const status = h("p.muted", {}, "Loading cameras…");
  const cards = new Map();

  function card(cam) {
    const img = h("img.snapshot", { alt: `Latest picture from ${cam.name}`, width: 640, height: 360 });
    const dot = h("span.dot");
    const meta = h("small.muted");
    const toggle = h("input", { type: "checkbox", role: "switch", "aria-label": `Detection on ${cam.name}` });
    toggle.addEventListener("change", async () => {
      toggle.disabled = true;
      try {
        const updated = await transport.json("PATCH", `/api/v1/cameras/${encodeURIComponent(cam.id)}`, {
          detection_enabled: toggle.checked,
        });
        update(updated);
      } catch (err) {
        toggle.checked = !toggle.checked;
        ctx.toast(`Could not change detection: ${err.message}`);
      } finally {
        toggle.disabled = false;
      }
    });
    const el = h(
      "article.card.camera",
      { dataset: { camera: cam.id } },
      h("a.snapshot-link", { href: `#/live/${encodeURIComponent(cam.id)}`, "aria-label": `Live view of ${cam.name}` }, img, h("span.live-chip", {}, icon("live"), "Live")),
      h(
        "div.camera-body",
        {},
        h("div.camera-title", {}, dot, h("strong", {}, cam.name)),
        meta,
        h("label.switch", {}, toggle, h("span.slider", { "aria-hidden": "true" }), h("span", {}, "Detection")),
      ),
    );
    const entry = { el, img, dot, meta, toggle, cam, url: null };
    cards.set(cam.id, entry);
    update(cam);
    return el;
  }

  function update(cam) {
    const entry = cards.get(cam.id);
    if (!entry) return;
    entry.cam = { ...entry.cam, ...cam };
    const c = entry.cam;
    entry.dot.className = `dot ${c.online ? "online" : "offline"}`;
    entry.dot.title = c.online ? "Online" : "Offline";
    entry.meta.textContent = c.online
      ? `Online · last frame ${formatAgo(c.last_frame_at)}`
      : `Offline${c.error ? ` · ${c.error}` : ""}`;
    entry.toggle.checked = c.detection_enabled !== false;
  }

  async function refreshSnapshot(entry) {
    try {
      const blob = await transport.blob(`/api/v1/cameras/${encodeURIComponent(entry.cam.id)}/snapshot.jpg`, {
        signal: scope.signal,
      });
      if (!scope.alive) return;
      const old = entry.url;
      entry.url = scope.objectUrl(blob);
      entry.img.src = entry.url;
      if (old) scope.revoke(old);
      entry.img.classList.remove("missing");
    } catch {
      if (!entry.url) entry.img.classList.add("missing");
    }
  }

  async function load() {
    try {
      const { cameras: cams } = await transport.json("GET", "/api/v1/cameras", null, { signal: scope.signal });
      if (!scope.alive) return;
      ctx.rememberCameras(cams);
      status.hidden = cams.length > 0;
      status.textContent = "No cameras are set up on the edge yet.";
      for (const cam of cams) {
        if (cards.has(cam.id)) update(cam);
        else grid.append(card(cam));
      }
      await Promise.all([...cards.values()].map(refreshSnapshot));
    } catch (err) {
      if (scope.alive) status.textContent = `Could not load cameras: ${err.message}`;
    }
  }

  scope.listen(transport, "push", (e) => {
    if (e.detail.type === "camera.status") update(e.detail.camera);
  });
  scope.listen(transport, "ready", load);
  scope.interval(() => {
    if (transport.ready && document.visibilityState === "visible") {
      for (const entry of cards.values()) refreshSnapshot(entry);
    }
  }, SNAPSHOT_REFRESH_MS);
  scope.interval(() => {
    for (const entry of cards.values()) update({ id: entry.cam.id });
  }, 5000);
  load();
  return h("section", { "aria-label": "Cameras" }, status, grid);
}
