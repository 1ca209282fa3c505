// custom:peerwatch-card: one Peerwatch camera on a dashboard. Live view through HA's own
// <ha-camera-stream> (native WebRTC), detection state and the privacy switch in the header, and
// a strip of recent detections that tap open to their snapshot. Data comes through Home
// Assistant only (the integration's `peerwatch/events` and `peerwatch/subscribe_events`
// WebSocket commands, images as signed paths): the browser never talks to the edge.
// Plain modern JavaScript, no build step; served and loaded by the integration.

const DOMAIN = "peerwatch";
const DEFAULT_EVENTS = 12;

const STYLE = `
  :host { display: block; }
  ha-card { overflow: hidden; }
  header { display: flex; align-items: center; gap: 8px; padding: 12px 16px 8px; }
  .name { flex: 1; min-width: 0; font-size: 1.1em; font-weight: 500;
    color: var(--primary-text-color); white-space: nowrap; overflow: hidden;
    text-overflow: ellipsis; }
  .state { font-size: 0.85em; padding: 2px 10px; border-radius: 12px; white-space: nowrap;
    color: var(--secondary-text-color); background: var(--secondary-background-color); }
  .state.active { color: var(--text-primary-color, #fff);
    background: var(--error-color, #db4437); }
  .state.off { color: var(--text-primary-color, #fff);
    background: var(--disabled-color, #9e9e9e); }
  label.privacy { display: flex; align-items: center; gap: 4px; font-size: 0.85em;
    color: var(--secondary-text-color); cursor: pointer; }
  .live { position: relative; background: #000; aspect-ratio: 16 / 9; }
  .live ha-camera-stream { display: block; width: 100%; height: 100%; }
  .live .paused { position: absolute; inset: 0; display: flex; align-items: center;
    justify-content: center; color: #fff; font-size: 0.95em; text-align: center; padding: 16px; }
  .strip { display: flex; gap: 8px; overflow-x: auto; padding: 10px 12px 12px;
    scroll-snap-type: x proximity; }
  .strip:empty::after { content: attr(data-empty); color: var(--secondary-text-color);
    font-size: 0.9em; padding: 8px 4px; }
  button.event { flex: 0 0 auto; width: 132px; scroll-snap-align: start; padding: 0;
    border: 1px solid var(--divider-color); border-radius: 10px; overflow: hidden;
    background: var(--card-background-color); color: var(--primary-text-color);
    text-align: left; cursor: pointer; font: inherit; }
  button.event:focus-visible { outline: 2px solid var(--primary-color); }
  button.event img { display: block; width: 132px; height: 74px; object-fit: cover;
    background: var(--secondary-background-color); }
  .meta { padding: 6px 8px; display: grid; gap: 2px; }
  .title { display: flex; align-items: center; gap: 4px; font-size: 0.9em; font-weight: 500; }
  .time { font-size: 0.8em; color: var(--secondary-text-color); }
  .chip { font-size: 0.7em; padding: 0 6px; border-radius: 8px;
    background: var(--primary-color); color: var(--text-primary-color, #fff); }
  .now { color: var(--error-color, #db4437); }
  dialog { padding: 0; border: none; border-radius: 12px; max-width: min(96vw, 960px);
    background: var(--card-background-color); color: var(--primary-text-color); }
  dialog::backdrop { background: rgba(0, 0, 0, 0.7); }
  dialog img { display: block; max-width: 100%; max-height: 75vh; }
  dialog .bar { display: flex; align-items: center; gap: 8px; padding: 8px 12px; }
  dialog .bar span { flex: 1; }
  dialog button { font: inherit; background: none; border: none; cursor: pointer;
    color: var(--primary-color); padding: 6px 8px; }
  .warning { padding: 16px; color: var(--error-color, #db4437); }
`;

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key in node) node[key] = value;
    else node.setAttribute(key, value);
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined));
  return node;
}

const capitalize = (text) => text.charAt(0).toUpperCase() + text.slice(1);

/** The camera's device entities, found through the entity registry the frontend holds. */
function relatedEntities(hass, cameraId) {
  const deviceId = hass.entities?.[cameraId]?.device_id;
  const same = Object.values(hass.entities ?? {}).filter(
    (e) => deviceId && e.device_id === deviceId && e.platform === DOMAIN,
  );
  return {
    privacy: same.find((e) => e.entity_id.startsWith("switch.") && e.translation_key === "detection")
      ?.entity_id,
    occupancy: same
      .filter((e) => e.entity_id.startsWith("binary_sensor.") && e.translation_key === "occupancy")
      .map((e) => e.entity_id),
  };
}

/** Make sure <ha-camera-stream> is defined: the frontend loads it lazily with picture cards. */
async function loadCameraStream() {
  if (customElements.get("ha-camera-stream")) return;
  const helpers = await window.loadCardHelpers?.();
  helpers?.createCardElement({ type: "picture-entity", entity: "camera.none", camera_view: "live" });
  await customElements.whenDefined("ha-camera-stream");
}

class PeerwatchCard extends HTMLElement {
  constructor() {
    super();
    this.attachShadow({ mode: "open" });
    this._events = new Map();
    this._unsubscribe = null;
    this._subscribing = null;
  }

  static getConfigElement() {
    return document.createElement("peerwatch-card-editor");
  }

  static getStubConfig(hass) {
    const camera = Object.values(hass.entities ?? {}).find(
      (e) => e.platform === DOMAIN && e.entity_id.startsWith("camera."),
    );
    return { entity: camera?.entity_id ?? "", events: DEFAULT_EVENTS, live: true };
  }

  setConfig(config) {
    if (!config?.entity?.startsWith("camera.")) {
      throw new Error("Choose a Peerwatch camera (entity: camera.…)");
    }
    const changed = this._config?.entity !== config.entity;
    this._config = { events: DEFAULT_EVENTS, live: true, ...config };
    if (changed) {
      this._stop();
      this._events.clear();
      this._built = false;
    }
    if (this._hass) this._update();
  }

  getCardSize() {
    return this._config?.live === false ? 3 : 7;
  }

  getGridOptions() {
    return { columns: 12, min_columns: 6, rows: this._config?.live === false ? 3 : 7 };
  }

  set hass(hass) {
    this._hass = hass;
    if (this._config) this._update();
  }

  connectedCallback() {
    if (this._hass && this._config) this._update();
  }

  disconnectedCallback() {
    this._stop();
  }

  _stop() {
    this._unsubscribe?.then((unsub) => unsub()).catch(() => {});
    this._unsubscribe = null;
    if (this._stream) this._stream.remove();
    this._stream = null;
  }

  _build() {
    this._built = true;
    this._nameEl = el("div", { class: "name" });
    this._stateEl = el("span", { class: "state", role: "status" });
    this._privacyInput = el("ha-switch", { onchange: () => this._togglePrivacy() });
    this._privacyEl = el("label", { class: "privacy", title: "Detection on this camera" },
      "Detection", this._privacyInput);
    this._live = el("div", { class: "live" });
    this._strip = el("div", { class: "strip", role: "list", "data-empty": "No detections yet" });
    this._dialogImg = el("img", { alt: "" });
    this._dialogText = el("span");
    this._dialog = el("dialog", { onclick: (e) => e.target === this._dialog && this._dialog.close() },
      this._dialogImg,
      el("div", { class: "bar" }, this._dialogText,
        el("button", { type: "button", onclick: () => this._dialog.close() }, "Close")));
    this._warning = el("div", { class: "warning", hidden: true });
    const card = el("ha-card", {},
      el("header", {}, this._nameEl, this._stateEl, this._privacyEl),
      this._warning, this._live, this._strip, this._dialog);
    this.shadowRoot.replaceChildren(el("style", {}, STYLE), card);
  }

  _update() {
    const hass = this._hass;
    const entity = this._config.entity;
    if (!this._built) this._build();
    const stateObj = hass.states[entity];
    this._warning.hidden = !!stateObj;
    this._warning.textContent = stateObj ? "" : `${entity} is not available`;
    if (!stateObj) return;
    this._nameEl.textContent = this._config.name ?? stateObj.attributes.friendly_name ?? entity;
    const related = relatedEntities(hass, entity);
    const privacy = related.privacy && hass.states[related.privacy];
    this._privacyEl.hidden = !privacy;
    // Set `checked` only once <ha-switch> is defined: an own property set before the upgrade
    // would hide the element's own accessor.
    if (!customElements.get("ha-switch")) {
      customElements.whenDefined("ha-switch").then(() => this._update());
    } else if (privacy) {
      this._privacyInput.checked = privacy.state === "on";
    }
    this._header();
    this._updateLive(stateObj);
    this._subscribe();
  }

  /** Detection state: what is in view now (open events, occupancy sensors), or detection off. */
  _header() {
    const hass = this._hass;
    const related = relatedEntities(hass, this._config.entity);
    const off = related.privacy && hass.states[related.privacy]?.state === "off";
    const open = [...new Set([...this._events.values()]
      .filter((e) => !e.ended_at).map((e) => capitalize(e.label)))];
    const occupied = related.occupancy.some((id) => hass.states[id]?.state === "on");
    const active = !off && (open.length > 0 || occupied);
    this._stateEl.textContent = off ? "Detection off"
      : active ? `${open.length ? open.join(", ") : "Object"} in view` : "Clear";
    this._stateEl.className = `state${off ? " off" : active ? " active" : ""}`;
  }

  async _updateLive(stateObj) {
    this._live.hidden = this._config.live === false;
    if (this._config.live === false) return;
    if (!this._stream) {
      this._stream = "loading";
      await loadCameraStream();
      this._stream = el("ha-camera-stream", { muted: true, controls: false, allowExoPlayer: true });
      this._stream.setAttribute("muted", "");
      this._live.replaceChildren(this._stream);
    }
    if (this._stream === "loading") return;
    this._stream.hass = this._hass;
    if (this._stream.stateObj?.entity_id !== stateObj.entity_id || this._stream.stateObj.state !== stateObj.state) {
      this._stream.stateObj = stateObj;
    }
  }

  _togglePrivacy() {
    const related = relatedEntities(this._hass, this._config.entity);
    if (!related.privacy) return;
    this._hass.callService("switch", this._privacyInput.checked ? "turn_on" : "turn_off", {
      entity_id: related.privacy,
    });
  }

  /** Load the recent events once, then follow the pushes; reload after a reconnect. */
  _subscribe() {
    if (this._unsubscribe || !this._hass?.connection) return;
    const connection = this._hass.connection;
    const entityId = this._config.entity;
    this._unsubscribe = connection.subscribeMessage(
      (event) => this._put(event, true),
      { type: `${DOMAIN}/subscribe_events`, entity_id: entityId },
    );
    this._unsubscribe.catch((err) => this._fail(err));
    this._load();
    if (!this._reconnectHooked) {
      this._reconnectHooked = true;
      connection.addEventListener("ready", () => this._load());
    }
  }

  async _load() {
    try {
      const result = await this._hass.callWS({
        type: `${DOMAIN}/events`,
        entity_id: this._config.entity,
        limit: Number(this._config.events) || DEFAULT_EVENTS,
      });
      for (const event of result.events.reverse()) this._put(event, false);
      this._render();
    } catch (err) {
      this._fail(err);
    }
  }

  _fail(err) {
    this._warning.hidden = false;
    this._warning.textContent = `Peerwatch: ${err?.message ?? err}`;
  }

  _put(event, render) {
    const known = this._events.get(event.id);
    this._events.delete(event.id);
    this._events.set(event.id, { ...known, ...event });
    if (render) this._render();
  }

  _render() {
    const limit = Number(this._config.events) || DEFAULT_EVENTS;
    const events = [...this._events.values()]
      .sort((a, b) => b.started_at.localeCompare(a.started_at))
      .slice(0, limit);
    const keep = new Set(events.map((e) => e.id));
    for (const id of this._events.keys()) if (!keep.has(id)) this._events.delete(id);
    const old = new Map([...this._strip.children].map((node) => [node.dataset.id, node]));
    this._strip.replaceChildren(...events.map((event) => this._tile(event, old.get(event.id))));
    this._header();
  }

  _tile(event, existing) {
    const tile = existing ?? el("button", {
      class: "event", type: "button", role: "listitem", onclick: () => this._open(tile.event),
    }, el("img", { alt: "", loading: "lazy", width: 132, height: 74 }),
    el("div", { class: "meta" }, el("div", { class: "title" }), el("time", { class: "time" })));
    tile.event = event;
    tile.dataset.id = event.id;
    const img = tile.querySelector("img");
    const picture = event.face_image ?? event.thumbnail;
    if (picture && img.dataset.src !== event.id + (event.face_image ? "/face" : "")) {
      img.dataset.src = event.id + (event.face_image ? "/face" : "");
      img.src = picture;
    }
    const title = tile.querySelector(".title");
    title.replaceChildren(`${capitalize(event.label)} ${Math.round(event.score * 100)}%`);
    if (event.face) {
      title.append(el("span", { class: "chip", title: "A face was seen on this person" }, "Face"));
    }
    const time = tile.querySelector("time");
    time.dateTime = event.started_at;
    time.replaceChildren(new Date(event.started_at).toLocaleTimeString(this._hass?.locale?.language),
      event.ended_at ? "" : el("span", { class: "now" }, " · now"));
    tile.setAttribute("aria-label", `${title.textContent}, ${time.textContent}`);
    return tile;
  }

  _open(event) {
    if (!event.snapshot) return;
    this._dialogImg.src = event.snapshot;
    this._dialogText.textContent = `${capitalize(event.label)} ${Math.round(event.score * 100)}% · ${new Date(event.started_at).toLocaleString(this._hass?.locale?.language)}`;
    if (!this._dialog.open) this._dialog.showModal();
  }
}

class PeerwatchCardEditor extends HTMLElement {
  setConfig(config) {
    this._config = config;
    this._render();
  }

  set hass(hass) {
    this._hass = hass;
    this._render();
  }

  _render() {
    if (!this._hass || !this._config) return;
    if (!this._form) {
      this._form = document.createElement("ha-form");
      this._form.schema = [
        { name: "entity", required: true, selector: { entity: { domain: "camera", integration: DOMAIN } } },
        { name: "name", selector: { text: {} } },
        { name: "events", selector: { number: { min: 1, max: 50, mode: "box" } } },
        { name: "live", selector: { boolean: {} } },
      ];
      this._form.computeLabel = (field) => ({
        entity: "Camera", name: "Name", events: "Recent detections shown", live: "Live view",
      })[field.name];
      this._form.addEventListener("value-changed", (ev) => {
        this._config = ev.detail.value;
        this.dispatchEvent(new CustomEvent("config-changed", {
          detail: { config: this._config }, bubbles: true, composed: true,
        }));
      });
      this.append(this._form);
    }
    this._form.hass = this._hass;
    this._form.data = { events: DEFAULT_EVENTS, live: true, ...this._config };
  }
}

// The frontend installs a scoped custom-element registry polyfill when its app starts; an element
// defined before then would be missing from the registry the dashboards use. This module may be
// loaded first (it is an extra module of the page), so define the card once the app is defined.
Promise.race(["home-assistant", "hc-main"].map((tag) => customElements.whenDefined(tag))).then(() => {
  for (const [tag, element] of [["peerwatch-card", PeerwatchCard], ["peerwatch-card-editor", PeerwatchCardEditor]]) {
    if (!window.customElements.get(tag)) window.customElements.define(tag, element);
  }
});

window.customCards = window.customCards || [];
if (!window.customCards.some((card) => card.type === "peerwatch-card")) {
  window.customCards.push({
    type: "peerwatch-card",
    name: "Peerwatch",
    description: "Live view, detection state, privacy switch and recent detections of a Peerwatch camera.",
    preview: true,
    documentationURL: "https://github.com/peerwatch/peerwatch#the-dashboard-card",
  });
}
