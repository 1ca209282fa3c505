// Small DOM helpers and a per-screen scope that frees what a screen made (blob URLs, timers,
// observers, listeners, requests) when the screen is left.

/** h("div.card", {onclick}, child…) → element. Strings become text nodes; null/false are skipped. */
export function h(spec, attrs = {}, ...children) {
  const [tag, ...classes] = spec.split(".");
  const el = document.createElement(tag || "div");
  if (classes.length) el.className = classes.join(" ");
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "htmlFor") el.htmlFor = value;
    else if (key in el && typeof value !== "string") el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Owns the resources of one screen. */
export class Scope {
  constructor() {
    this.urls = new Set();
    this.cleanups = [];
    this.abort = new AbortController();
  }

  get signal() {
    return this.abort.signal;
  }

  get alive() {
    return !this.abort.signal.aborted;
  }

  /** A blob URL that is revoked when the scope ends (or earlier with revoke()). */
  objectUrl(blob) {
    const url = URL.createObjectURL(blob);
    this.urls.add(url);
    return url;
  }

  revoke(url) {
    if (this.urls.delete(url)) URL.revokeObjectURL(url);
  }

  /** Run `fn` when the scope ends. */
  defer(fn) {
    this.cleanups.push(fn);
  }

  listen(target, type, fn) {
    target.addEventListener(type, fn);
    this.defer(() => target.removeEventListener(type, fn));
  }

  interval(fn, ms) {
    const id = setInterval(fn, ms);
    this.defer(() => clearInterval(id));
  }

  end() {
    this.abort.abort();
    for (const fn of this.cleanups.splice(0).reverse()) fn();
    for (const url of this.urls) URL.revokeObjectURL(url);
    this.urls.clear();
  }
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
const dateFmt = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short" });

/** "14:03:12" today, "Tue 3 Nov, 14:03:12" otherwise. */
export function formatTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const today = new Date().toDateString() === d.toDateString();
  return today ? timeFmt.format(d) : `${dateFmt.format(d)}, ${timeFmt.format(d)}`;
}

/** "14:03:12": the time of day only (lists that are grouped by day). */
export function formatClock(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "" : timeFmt.format(d);
}

const longDayFmt = new Intl.DateTimeFormat(undefined, { weekday: "long", day: "numeric", month: "long" });

/** "Today", "Yesterday" or "Monday 23 November". */
export function formatDay(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const today = new Date();
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (d.toDateString() === today.toDateString()) return "Today";
  if (d.toDateString() === yesterday.toDateString()) return "Yesterday";
  return longDayFmt.format(d);
}

/** "12 s ago", "5 min ago", "3 h ago", else the date. */
export function formatAgo(iso) {
  if (!iso) return "never";
  const s = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
  if (Number.isNaN(s)) return "";
  if (s < 5) return "just now";
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return formatTime(iso);
}

/** "1 min 12 s" between two ISO times (or until now). */
export function formatDuration(startIso, endIso) {
  const s = Math.max(0, Math.round(((endIso ? new Date(endIso) : new Date()) - new Date(startIso)) / 1000));
  if (s < 60) return `${s} s`;
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

export function capitalize(text) {
  return text ? text[0].toUpperCase() + text.slice(1) : "";
}

/** What an event is, in words and as an icon name: "Person"/person, "Face"/face, "Fall"/fall… */
export function eventKind(event) {
  if (event.kind === "face" || event.kind === "fall") return { what: capitalize(event.kind), icon: event.kind };
  return { what: capitalize(event.label), icon: LABEL_ICONS.has(event.label) ? event.label : "object" };
}

/** "Person · Front door": what was seen, where. */
export function eventTitle(event, cameraName) {
  return `${eventKind(event).what} · ${cameraName}`;
}

const LABEL_ICONS = new Set(["person", "dog", "cat", "car"]);

/** An inline SVG icon from the set below. */
export function icon(name) {
  const span = document.createElement("span");
  span.className = "icon";
  span.setAttribute("aria-hidden", "true");
  span.innerHTML = `<svg viewBox="0 0 24 24" width="22" height="22" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">${ICONS[name]}</svg>`;
  return span;
}

const ICONS = {
  camera: '<path d="M15 10l4.5-2.5v9L15 14"/><rect x="3" y="6.5" width="12" height="11" rx="2"/>',
  timeline: '<circle cx="12" cy="12" r="9"/><path d="M12 7v5l3 2"/>',
  devices: '<rect x="7" y="2.5" width="10" height="19" rx="2"/><path d="M11 18h2"/>',
  settings:
    '<circle cx="12" cy="12" r="3"/><path d="M19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1z"/>',
  back: '<path d="M15 18l-6-6 6-6"/>',
  live: '<circle cx="12" cy="12" r="2"/><path d="M16.2 7.8a6 6 0 0 1 0 8.4M7.8 16.2a6 6 0 0 1 0-8.4M19 5a10 10 0 0 1 0 14M5 19A10 10 0 0 1 5 5"/>',
  trash: '<path d="M4 7h16M10 11v6M14 11v6M6 7l1 13h10l1-13M9 7V4h6v3"/>',
  person: '<circle cx="12" cy="7" r="4"/><path d="M5 21v-2a7 7 0 0 1 14 0v2"/>',
  face: '<circle cx="12" cy="12" r="9"/><path d="M8.5 14.5a4.5 4.5 0 0 0 7 0"/><path d="M9 9.5h.01M15 9.5h.01"/>',
  fall: '<circle cx="17" cy="5" r="2"/><path d="M15 8l-5 3-3-2M10 11l1 5-4 3M11 16l5 1 2 4M3 21h18"/>',
  dog: '<path d="M10 5.2L8 4 4 6v4l2 1v6a2 2 0 0 0 2 2h1v-4h6v4h1a2 2 0 0 0 2-2v-6l2-1V6l-4-2-2 1.2"/><path d="M10 9h.01M14 9h.01M11 12h2"/>',
  cat: '<path d="M5 3l3 4h8l3-4v10a7 7 0 0 1-14 0z"/><path d="M9.5 12h.01M14.5 12h.01M11 15h2"/>',
  car: '<path d="M5 17h14M3 17v-4l2-5h14l2 5v4"/><circle cx="7" cy="17" r="2"/><circle cx="17" cy="17" r="2"/>',
  object: '<path d="M2 12s3.5-7 10-7 10 7 10 7-3.5 7-10 7S2 12 2 12z"/><circle cx="12" cy="12" r="3"/>',
  play: '<path d="M7 4.5v15l12-7.5z"/>',
  restart: '<path d="M3 12a9 9 0 1 0 3-6.7L3 8"/><path d="M3 3v5h5"/>',
  edit: '<path d="M12 20h9"/><path d="M16.5 3.5a2.1 2.1 0 0 1 3 3L7 19l-4 1 1-4z"/>',
  lock: '<rect x="4" y="11" width="16" height="10" rx="2"/><path d="M8 11V7a4 4 0 0 1 8 0v4"/>',
  edge: '<rect x="3" y="4" width="18" height="12" rx="2"/><path d="M8 20h8M12 16v4"/>',
};
