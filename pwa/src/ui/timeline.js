// Timeline: newest events first with thumbnails; endless scroll with the `before` cursor;
// new events pushed by the edge appear at the top.

import { eventKind, eventTitle, formatClock, formatDay, formatDuration, h, icon } from "./dom.js";

const PAGE_SIZE = 20;

export function renderTimeline(ctx, scope) {
  const { transport } = ctx;
  const list = h("ol.timeline", { "aria-label": "Events, newest first" });
  const status = h("p.muted.center", { role: "status" });
  const sentinel = h("div.sentinel", { "aria-hidden": "true" });
  const entries = new Map();
  let next = null;
  let loading = false;
  let started = false;
  let done = false;

  const thumbObserver = new IntersectionObserver(
    (records) => {
      for (const r of records) {
        if (!r.isIntersecting) continue;
        thumbObserver.unobserve(r.target);
        loadThumb(entries.get(r.target.dataset.id));
      }
    },
    { rootMargin: "400px" },
  );
  scope.defer(() => thumbObserver.disconnect());

  async function loadThumb(entry) {
    if (!entry?.event.has_snapshot) return;
    try {
      const blob = await transport.blob(`/api/v1/events/${encodeURIComponent(entry.event.id)}/thumbnail.jpg`, {
        signal: scope.signal,
      });
      if (!scope.alive) return;
      const old = entry.url;
      entry.url = scope.objectUrl(blob);
      entry.img.src = entry.url;
      entry.img.classList.remove("missing");
      if (old) scope.revoke(old);
    } catch {
      entry.img.classList.add("missing");
    }
  }

  function describe(event) {
    return [`${Math.round(event.score * 100)}%`, ...(event.zones ?? [])].join(" · ");
  }

  function fill(entry) {
    const e = entry.event;
    entry.title.textContent = eventTitle(e, ctx.cameraName(e.camera));
    entry.face.hidden = !e.face;
    entry.where.textContent = describe(e);
    entry.when.textContent = formatClock(e.started_at);
    entry.when.dateTime = e.started_at;
    entry.badge.textContent = e.ended_at ? formatDuration(e.started_at, e.ended_at) : "Now";
    entry.badge.className = e.ended_at ? "badge" : "badge live";
  }

  function item(event) {
    const img = h("img.thumb", { alt: "", width: 160, height: 120, loading: "lazy" });
    const title = h("strong");
    const face = h("span.chip", { title: "A face was seen on this person" }, "Face");
    const where = h("small.muted");
    const when = h("time.small");
    const badge = h("span.badge");
    const el = h(
      "li.event-card",
      { dataset: { id: event.id } },
      h("a", { href: `#/event/${encodeURIComponent(event.id)}` }, h("div.thumb-box", {}, img, h("span.thumb-kind", { "aria-hidden": "true", dataset: { kind: eventKind(event).icon } }, icon(eventKind(event).icon))), h("div.event-text", {}, h("span.title-line", {}, title, face), where, when), badge),
    );
    el.dataset.id = event.id;
    const entry = { event, el, img, title, face, where, when, badge, url: null };
    entries.set(event.id, entry);
    fill(entry);
    thumbObserver.observe(el);
    return el;
  }

  /** Put a day heading above the first event of each day. */
  function markDays() {
    for (const el of list.querySelectorAll("li.day")) el.remove();
    let previous = null;
    for (const el of [...list.children]) {
      const day = formatDay(entries.get(el.dataset.id)?.event.started_at);
      if (day !== previous) el.before(h("li.day", { "aria-hidden": "true" }, day));
      previous = day;
    }
  }

  /** After a reconnect: add events that started while we were away. */
  async function refreshTop() {
    try {
      const page = await transport.json("GET", `/api/v1/events?limit=${PAGE_SIZE}`, null, { signal: scope.signal });
      const fresh = page.events.filter((e) => !entries.has(e.id));
      if (!scope.alive || !fresh.length) return;
      list.prepend(...fresh.map(item));
      markDays();
    } catch {
      // the next reconnect tries again
    }
  }

  async function loadMore() {
    if (loading || done || !scope.alive) return;
    loading = true;
    status.textContent = "Loading…";
    const q = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (next) q.set("before", next);
    try {
      const page = await transport.json("GET", `/api/v1/events?${q}`, null, { signal: scope.signal });
      if (!scope.alive) return;
      started = true;
      for (const event of page.events) if (!entries.has(event.id)) list.append(item(event));
      markDays();
      next = page.next;
      done = !next;
      showEnd();
    } catch (err) {
      if (scope.alive) status.textContent = `Could not load events: ${err.message}`;
    } finally {
      loading = false;
    }
    if (!done && scope.alive && isVisible(sentinel)) loadMore();
  }

  /** Below the list: that it is empty, or that it holds everything, or nothing. */
  function showEnd() {
    status.textContent = entries.size ? (done ? "That's everything." : "") : "Nothing happened yet. Events appear here as soon as a camera sees something.";
  }

  function isVisible(el) {
    const r = el.getBoundingClientRect();
    return r.top < innerHeight + 400;
  }

  const pager = new IntersectionObserver((records) => {
    if (records.some((r) => r.isIntersecting)) loadMore();
  }, { rootMargin: "600px" });
  pager.observe(sentinel);
  scope.defer(() => pager.disconnect());

  scope.listen(transport, "push", (e) => {
    const msg = e.detail;
    if (!msg.event || !started) return;
    const entry = entries.get(msg.event.id);
    if (entry) {
      const hadSnapshot = entry.event.has_snapshot;
      entry.event = msg.event;
      fill(entry);
      if (msg.type === "event.end" || (!hadSnapshot && msg.event.has_snapshot)) loadThumb(entry);
    } else if (msg.type === "event.start" || msg.type === "event.update") {
      list.prepend(item(msg.event));
      markDays();
      showEnd();
    }
  });
  scope.listen(transport, "ready", () => (started ? refreshTop() : loadMore()));
  scope.interval(() => {
    for (const entry of entries.values()) if (!entry.event.ended_at) fill(entry);
  }, 1000);
  loadMore();
  return h("section", { "aria-label": "Timeline" }, list, status, sentinel);
}
