// Event detail: the snapshot (boxes already drawn by the edge), the clip on request, and what
// was seen.

import { playClip } from "../lib/clip.js";
import { capitalize, eventKind, eventTitle, formatDuration, formatTime, h, icon } from "./dom.js";

export function renderEvent(ctx, scope, { id }) {
  const { transport } = ctx;
  const img = h("img.event-snapshot", { alt: "Snapshot of the event", width: 1280, height: 720 });
  const face = h("img.event-face", { alt: "The face seen on this person", width: 96, height: 96, hidden: true });
  const facts = h("dl.facts");
  const title = h("h2");
  const status = h("p.muted", { role: "status" }, "Loading…");
  const actions = h("div.actions");
  const path = `/api/v1/events/${encodeURIComponent(id)}`;
  const frame = h("div.snapshot-frame", {}, img);
  let clip = null;
  let shown = null; // the event as last loaded

  /** Play the event's clip in place of the snapshot (fetched only when asked: it is MBs). */
  async function play() {
    if (clip) return;
    clip = h("video.event-clip", { controls: true, autoplay: true, muted: true, playsInline: true, "aria-label": "Clip of the event" });
    clip.muted = true;
    if (img.src) clip.poster = img.src;
    frame.replaceChildren(clip);
    try {
      clip.dataset.mode = await playClip(clip, transport, `${path}/clip.mp4`, scope);
    } catch (err) {
      if (!scope.alive) return;
      frame.replaceChildren(img);
      clip = null;
      ctx.toast(`Could not play the clip: ${err.message}`);
    }
  }

  function fact(term, value) {
    return [h("dt", {}, term), h("dd", {}, value)];
  }

  async function remove() {
    if (!confirm("Delete this event and its snapshot?")) return;
    try {
      await transport.json("DELETE", path);
      ctx.navigate("#/timeline");
    } catch (err) {
      ctx.toast(`Could not delete: ${err.message}`);
    }
  }

  async function load() {
    try {
      const event = await transport.json("GET", path, null, { signal: scope.signal });
      if (!scope.alive) return;
      shown = event;
      status.hidden = true;
      title.replaceChildren(icon(eventKind(event).icon), eventTitle(event, ctx.cameraName(event.camera)));
      title.dataset.kind = eventKind(event).icon;
      facts.replaceChildren(
        ...fact("When", formatTime(event.started_at)),
        ...fact("Duration", event.ended_at ? formatDuration(event.started_at, event.ended_at) : "Still going"),
        ...fact("Confidence", `${Math.round(event.score * 100)}%`),
        ...fact("Detector", capitalize(event.kind)),
        ...(event.zones?.length ? fact("Zones", event.zones.join(", ")) : []),
        ...(event.face ? fact("Face", `Seen · ${Math.round(event.face.score * 100)}%`) : []),
      );
      if (event.face?.has_image && !face.src) {
        transport.blob(`${path}/face.jpg`, { signal: scope.signal }).then(
          (blob) => {
            if (scope.alive) {
              face.src = scope.objectUrl(blob);
              face.hidden = false;
            }
          },
          () => {}, // the face is a detail: the event shows without it
        );
      }
      const clipLabel = event.clip_duration ? `Play clip · ${Math.round(event.clip_duration)} s` : "Play clip so far";
      actions.replaceChildren(
        event.has_clip ? h("button.primary", { type: "button", onclick: play }, icon("play"), clipLabel) : null,
        h("a.button", { href: `#/live/${encodeURIComponent(event.camera)}` }, icon("live"), "Live view"),
        h("button.danger", { type: "button", onclick: remove }, icon("trash"), "Delete"),
      );
      if (event.has_snapshot) {
        // The thumbnail (a few KB, one round trip) stands in, blurred, until the full snapshot
        // (hundreds of KB, several round trips over a phone's connection) has arrived.
        const full = transport.blob(`${path}/snapshot.jpg`, { signal: scope.signal });
        transport.blob(`${path}/thumbnail.jpg`, { signal: scope.signal }).then(
          (blob) => {
            if (scope.alive && !img.src) {
              img.src = scope.objectUrl(blob);
              img.classList.add("preview");
            }
          },
          () => {}, // the full snapshot's own request reports the failure
        );
        const blob = await full;
        if (scope.alive) {
          img.src = scope.objectUrl(blob);
          img.classList.remove("preview");
        }
      } else {
        img.classList.add("missing");
      }
    } catch (err) {
      if (scope.alive) {
        status.hidden = false;
        status.textContent = err.status === 404 ? "This event no longer exists." : `Could not load the event: ${err.message}`;
      }
    }
  }

  scope.listen(transport, "push", (e) => {
    const pushed = e.detail.event;
    if (pushed?.id !== id) return;
    const clipDone = pushed.clip_duration != null && shown?.clip_duration == null;
    if (e.detail.type === "event.end" || clipDone || (pushed.face?.has_image && !face.src)) load();
  });
  load();
  return h("section.event", { "aria-labelledby": "event-title" }, frame, Object.assign(title, { id: "event-title" }), status, facts, face, actions);
}
