// Peerwatch app: picks the transport (same-origin HTTP under Home Assistant ingress, else WebRTC
// through the registrar), draws the shell with the connection state, and routes between screens.

import { HttpTransport } from "./lib/http-transport.js";
import { loadIdentity } from "./lib/identity.js";
import { kv } from "./lib/store.js";
import { WebRtcTransport, registrarFromUrl } from "./lib/webrtc-transport.js";
import { renderCameras } from "./ui/cameras.js";
import { renderDevices } from "./ui/devices.js";
import { Scope, h, icon } from "./ui/dom.js";
import { renderEvent } from "./ui/event.js";
import { renderLive } from "./ui/live.js";
import { renderPair } from "./ui/pair.js";
import { renderSettings } from "./ui/settings.js";
import { renderTimeline } from "./ui/timeline.js";

const VERSION = globalThis.PEERWATCH_VERSION ?? "dev";
const PROBE_TIMEOUT_MS = 2500;

const ROUTES = [
  { re: /^#\/pair$/, title: "Peerwatch", render: renderPair, tab: null, pairing: true },
  { re: /^#\/(cameras)?$/, title: "Cameras", render: renderCameras, tab: "cameras" },
  { re: /^#\/timeline$/, title: "Timeline", render: renderTimeline, tab: "timeline" },
  { re: /^#\/event\/(?<id>[^/]+)$/, title: "Event", render: renderEvent, tab: "timeline", back: "#/timeline" },
  { re: /^#\/live\/(?<camera>[^/]+)$/, title: "Live", render: renderLive, tab: "cameras", back: "#/cameras" },
  { re: /^#\/devices$/, title: "Devices", render: renderDevices, tab: "devices" },
  { re: /^#\/settings$/, title: "Settings", render: renderSettings, tab: "settings" },
];

const TABS = [
  ["cameras", "Cameras", "camera"],
  ["timeline", "Timeline", "timeline"],
  ["devices", "Devices", "devices"],
  ["settings", "Settings", "settings"],
];

/** Ask ./api/v1/info when the edge itself served this page (ingress; its index.html says so). */
async function probeIngress() {
  if (document.querySelector('meta[name="peerwatch-served-by"]')?.content !== "edge") return null;
  try {
    const resp = await fetch(new URL("./api/v1/info", document.baseURI), {
      cache: "no-store",
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    if (!resp.ok || !resp.headers.get("content-type")?.includes("json")) return null;
    return await resp.json();
  } catch {
    return null;
  }
}

class App {
  constructor(root) {
    this.root = root;
    this.scope = null;
    this.cameras = new Map();
    this.version = VERSION;
  }

  async start() {
    this.drawShell();
    const info = await probeIngress();
    if (info) {
      this.transport = new HttpTransport();
      this.transport.setIceServers(info.ice_servers); // before a live view opened at once asks
      this.edgeName = info.name;
    } else {
      if (!window.isSecureContext || !crypto.subtle) {
        throw new Error(
          "This page was opened over plain HTTP. Browsers allow the encryption Peerwatch needs only on " +
            "HTTPS (or on this computer's localhost): open the app from your registrar's https:// address.",
        );
      }
      this.identity = await loadIdentity();
      this.pairing = (await kv.get("pairing")) ?? null;
      this.registrarUrl = (await kv.get("registrar")) ?? new URL("/", location.href).href;
      this.transport = new WebRtcTransport({
        registrar: registrarFromUrl(this.registrarUrl),
        identity: this.identity,
        pairing: this.pairing,
        iceServers: (await kv.get("iceServers")) ?? [],
      });
    }
    this.transport.addEventListener("state", (e) => this.showState(e.detail));
    this.transport.addEventListener("ready", () => this.onReady());
    this.transport.start();
    this.showState(this.transport.state);
    addEventListener("hashchange", () => this.route());
    document.addEventListener("visibilitychange", () => {
      // Phones suspend background pages: when we come back, reconnect at once.
      if (document.visibilityState === "visible" && this.transport.state.phase === "offline") this.transport.retry?.();
    });
    this.route();
  }

  // --- context for screens ---------------------------------------------------------------

  get deviceId() {
    return this.pairing?.device_id;
  }

  navigate(hash) {
    if (location.hash === hash) this.route();
    else location.hash = hash;
  }

  rememberCameras(cams) {
    for (const cam of cams) this.cameras.set(cam.id, cam.name);
  }

  cameraName(id) {
    return this.cameras.get(id) ?? id;
  }

  /** On each (re)connection, take what /api/v1/info says: name, cameras and ICE servers. */
  async onReady() {
    let info;
    try {
      info = await this.transport.json("GET", "/api/v1/info");
    } catch {
      return; // the screens show their own errors
    }
    this.edgeName = info.name;
    this.rememberCameras(info.cameras);
    this.drawTitle();
    this.transport.setIceServers(info.ice_servers);
    if (this.transport.kind === "webrtc") await kv.set("iceServers", info.ice_servers);
  }

  async paired(record) {
    this.pairing = record;
    await kv.set("pairing", record);
    this.toast(`Paired with ${record.name}`);
    this.navigate("#/timeline");
  }

  /** Drop the pairing (optionally revoking this device on the edge first) and start over. */
  async forget({ revoke = false } = {}) {
    if (revoke && this.transport.ready && this.deviceId) {
      try {
        await this.transport.json("DELETE", `/api/v1/devices/${encodeURIComponent(this.deviceId)}`, null, {
          timeout: 5000,
        });
      } catch {
        // the edge may be unreachable; forgetting locally still works
      }
    }
    await kv.delete("pairing");
    location.hash = "#/pair";
    location.reload();
  }

  async setRegistrar(url) {
    await kv.set("registrar", url);
    location.reload();
  }

  toast(text) {
    const el = h("div.toast", { role: "status" }, text);
    document.body.append(el);
    setTimeout(() => el.remove(), 4000);
  }

  // --- shell -----------------------------------------------------------------------------

  drawShell() {
    this.backBtn = h("a.back", { href: "#/", hidden: true, "aria-label": "Back" }, icon("back"));
    this.titleEl = h("h1", {}, "Peerwatch");
    this.pill = h("button.pill", { type: "button", "aria-live": "polite", onclick: () => this.transport?.retry?.() }, h("span.dot"), h("span.pill-text", {}, "Starting…"));
    this.banner = h("div.banner", { role: "status", hidden: true });
    this.view = h("main", { id: "view", tabIndex: -1 });
    this.tabs = h(
      "nav.tabbar",
      { "aria-label": "Sections" },
      TABS.map(([id, label, ic]) => h("a.tab", { href: `#/${id}`, dataset: { tab: id } }, icon(ic), h("span", {}, label))),
    );
    this.root.replaceChildren(h("header.topbar", {}, this.backBtn, this.titleEl, this.pill), this.banner, this.view, this.tabs);
  }

  drawTitle() {
    const route = this.currentRoute;
    const isHome = route?.tab === "cameras" && !route.back;
    this.titleEl.textContent = isHome && this.edgeName ? this.edgeName : (route?.title ?? "Peerwatch");
  }

  showState(state) {
    this.pill.dataset.phase = state.phase;
    this.pill.dataset.registrar = state.registrar ?? "";
    this.pill.querySelector(".pill-text").textContent = {
      online: "Connected",
      connecting: "Connecting",
      offline: "Offline",
      refused: "Refused",
      unpaired: "Not paired",
    }[state.phase] ?? state.phase;
    this.pill.title = state.message;
    this.pill.setAttribute("aria-label", `Connection: ${state.message}`);
    const showBanner = state.phase === "offline" || state.phase === "refused";
    this.banner.hidden = !showBanner;
    this.banner.dataset.phase = state.phase;
    clearInterval(this.bannerTimer);
    if (showBanner) {
      const draw = () => {
        const retry = state.phase === "offline" && state.retryAt ? Math.max(0, Math.ceil((state.retryAt - Date.now()) / 1000)) : null;
        const action =
          state.phase === "refused"
            ? h("a.button.small", { href: "#/settings" }, "Settings")
            : h("button.small", { type: "button", onclick: () => this.transport.retry?.() }, "Retry now");
        this.banner.replaceChildren(h("span", {}, state.message, retry ? ` · retrying in ${retry} s` : ""), this.transport.retry || state.phase === "refused" ? action : null);
      };
      draw();
      this.bannerTimer = setInterval(draw, 1000);
    }
  }

  route() {
    let hash = location.hash || "#/";
    const needsPairing = this.transport?.kind === "webrtc" && !this.pairing;
    if (needsPairing && hash !== "#/pair") return this.navigate("#/pair");
    if (!needsPairing && hash === "#/pair") hash = "#/";
    let route = ROUTES.find((r) => r.re.test(hash));
    if (!route) route = ROUTES[1];
    const params = Object.fromEntries(
      Object.entries(hash.match(route.re)?.groups ?? {}).map(([k, v]) => [k, decodeURIComponent(v)]),
    );
    this.scope?.end();
    this.scope = new Scope();
    this.currentRoute = route;
    this.drawTitle();
    this.backBtn.hidden = !route.back;
    if (route.back) this.backBtn.href = route.back;
    this.tabs.hidden = !!route.pairing;
    for (const tab of this.tabs.children) {
      if (tab.dataset.tab === route.tab) tab.setAttribute("aria-current", "page");
      else tab.removeAttribute("aria-current");
    }
    this.view.replaceChildren(route.render(this, this.scope, params));
    this.view.dataset.screen = route.title.toLowerCase();
    scrollTo(0, 0);
  }
}

if ("serviceWorker" in navigator && location.protocol !== "file:") {
  navigator.serviceWorker.register("./sw.js").catch(() => {});
}
const root = document.getElementById("app");
new App(root).start().catch((err) => {
  root.replaceChildren(
    h("main", {}, h("div.card", { role: "alert" }, h("h2", {}, "Peerwatch cannot start"), h("p.muted", {}, err.message))),
  );
});
