// Paired devices: list and revoke.

import { formatAgo, formatTime, h, icon } from "./dom.js";

export function renderDevices(ctx, scope) {
  const { transport } = ctx;
  const list = h("ul.device-list", { "aria-label": "Paired devices" });
  const status = h("p.muted", { role: "status" }, "Loading…");

  async function revoke(device) {
    const self = device.id === ctx.deviceId;
    const question = self
      ? "Revoke this phone? It will lose access until you pair it again."
      : `Revoke “${device.name}”? It will lose access at once.`;
    if (!confirm(question)) return;
    try {
      await transport.json("DELETE", `/api/v1/devices/${encodeURIComponent(device.id)}`);
      if (self) return ctx.forget();
      load();
    } catch (err) {
      ctx.toast(`Could not revoke: ${err.message}`);
    }
  }

  async function rename(device) {
    const name = prompt("New name of this device", device.name)?.trim();
    if (!name || name === device.name) return;
    try {
      await transport.json("PATCH", `/api/v1/devices/${encodeURIComponent(device.id)}`, { name });
      load();
    } catch (err) {
      ctx.toast(`Could not rename: ${err.message}`);
    }
  }

  async function load() {
    try {
      const { devices } = await transport.json("GET", "/api/v1/devices", null, { signal: scope.signal });
      if (!scope.alive) return;
      status.hidden = devices.length > 0;
      status.textContent = "No paired devices.";
      list.replaceChildren(
        ...devices.map((d) => {
          return h(
            "li.card.device",
            { dataset: { device: d.id } },
            icon("devices"),
            h(
              "div.device-text",
              {},
              h("strong", {}, d.name, d.id === ctx.deviceId ? h("span.badge.ok", {}, "This device") : null),
              h("small.muted", {}, [`Paired ${formatTime(d.created_at)}`, d.last_seen ? `seen ${formatAgo(d.last_seen)}` : null].filter(Boolean).join(" · ")),
            ),
            h("button.small", { type: "button", onclick: () => rename(d), "aria-label": `Rename ${d.name}` }, "Rename"),
            h("button.danger.small", { type: "button", onclick: () => revoke(d), "aria-label": `Revoke ${d.name}` }, "Revoke"),
          );
        }),
      );
    } catch (err) {
      if (scope.alive) status.textContent = `Could not load devices: ${err.message}`;
    }
  }

  scope.listen(transport, "ready", load);
  load();
  return h("section", { "aria-label": "Paired devices" }, h("p.muted.small", {}, "Phones and browsers that can reach your edge. Revoke one you lost or no longer use."), status, list);
}
