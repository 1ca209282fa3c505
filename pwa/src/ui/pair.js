// Pairing screen: find the edges in this network's room, ask for the 6-digit code from Home
// Assistant, pair, and keep the device key.

import { h, icon } from "./dom.js";

const SEARCH_INTERVAL_MS = 3000;

const NEW_CODE =
  "Home Assistant: press “Pair a phone” on the Peerwatch device. Plain edge: POST /api/v1/pairing with its API token (the demo: press Enter in its terminal, or run scripts/demo.py --pair).";

const ERRORS = {
  bad_code: "That code is not right. Check the code in Home Assistant and try again.",
  pairing_closed: `The pairing window is closed. Get a new code, then try again. ${NEW_CODE}`,
  too_many_attempts: `Too many wrong codes: the pairing window closed. Get a new code, then try again. ${NEW_CODE}`,
  timeout: "The edge did not answer in time. Try again.",
  closed: "The connection to the edge closed. Try again.",
  bad_edge_mac: "The edge's answer did not check out, so this phone was not paired.",
};

/** "Chrome on Linux · 7F3A": browser, system and a tag of this app's id, so two browsers differ. */
function defaultDeviceName(appId) {
  const ua = navigator.userAgent;
  const os = /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS" : /Mac/.test(ua) ? "Mac" : /Windows/.test(ua) ? "Windows" : /Linux/.test(ua) ? "Linux" : "device";
  const browser = /Edg\//.test(ua) ? "Edge" : /Firefox\//.test(ua) ? "Firefox" : /Chrome\//.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : "Browser";
  const tag = appId ? ` · ${appId.slice(-4).toUpperCase()}` : "";
  return `${browser} on ${os}${tag}`;
}

export function renderPair(ctx, scope) {
  const { transport } = ctx;
  const candidates = new Map(); // edgeId → {channel, hello} or {error}
  let selected = null;
  let busy = false;

  const list = h("div.edge-list", { role: "radiogroup", "aria-label": "Edges found on this network" });
  const searching = h("p.muted.searching", {}, h("span.spinner", { "aria-hidden": "true" }), "Looking for Peerwatch on this network…");
  const error = h("p.error", { role: "alert", hidden: true });
  const code = h("input.code", {
    id: "pair-code",
    name: "code",
    inputMode: "numeric",
    autocomplete: "one-time-code",
    pattern: "[0-9]{6}",
    maxLength: 6,
    placeholder: "000000",
    required: true,
    "aria-describedby": "pair-code-help",
  });
  const name = h("input", { id: "pair-name", name: "device_name", value: defaultDeviceName(transport.identity?.appId), maxLength: 64, required: true });
  const submit = h("button.primary", { type: "submit", disabled: true }, "Pair");
  code.addEventListener("input", () => {
    code.value = code.value.replace(/\D/g, "").slice(0, 6);
    showError("");
    updateSubmit();
  });

  function updateSubmit() {
    submit.disabled = busy || !selected || code.value.length !== 6;
  }

  function showError(text) {
    error.textContent = text;
    error.hidden = !text;
  }

  function renderList() {
    list.replaceChildren();
    const found = [...candidates.entries()].filter(([, c]) => c.hello);
    searching.hidden = found.length > 0;
    if (found.length && (!selected || !candidates.get(selected)?.hello)) selected = found[0][0];
    for (const [edgeId, c] of found) {
      const checked = edgeId === selected;
      list.append(
        h(
          "button.edge-option",
          {
            type: "button",
            role: "radio",
            "aria-checked": String(checked),
            dataset: { edgeId },
            onclick: () => {
              selected = edgeId;
              renderList();
              updateSubmit();
            },
          },
          icon("edge"),
          h("span.edge-text", {}, h("strong", {}, c.hello.name || "Peerwatch edge"), h("small.mono", {}, edgeId.slice(0, 20) + "…")),
          h(
            "span.badge" + (c.hello.pairing ? ".ok" : ".warn"),
            {},
            c.hello.pairing ? "Ready to pair" : "Pairing closed",
          ),
        ),
      );
    }
    updateSubmit();
  }

  async function search() {
    if (!transport.registrarOnline) return;
    let ids;
    try {
      ids = await transport.findEdges();
    } catch (err) {
      showError(err.message);
      return;
    }
    for (const edgeId of ids) {
      const known = candidates.get(edgeId);
      if (known && !known.stale) continue;
      if (busy) continue;
      candidates.set(edgeId, known ? { ...known, stale: false, pending: true } : { pending: true });
      transport
        .probeEdge(edgeId)
        .then((channel) => {
          if (!scope.alive) return channel.close();
          // The edge ends an idle handshake after 10 s: the card stays, and the next search
          // dials again for a fresh hello (is the pairing window open now?).
          const entry = { channel, hello: channel.hello };
          candidates.set(edgeId, entry);
          channel.addEventListener("close", () => {
            if (channel !== transport.channel) entry.stale = true;
          });
          renderList();
        })
        .catch(() => {
          if (!candidates.get(edgeId)?.hello) candidates.delete(edgeId);
          else candidates.get(edgeId).stale = true;
        });
    }
  }

  async function onSubmit(e) {
    e.preventDefault();
    if (busy || !selected) return;
    busy = true;
    updateSubmit();
    showError("");
    submit.textContent = "Pairing…";
    try {
      let c = candidates.get(selected);
      if (!c?.channel || c.channel.closedReason || c.pending) {
        const channel = await transport.probeEdge(selected);
        c = { channel, hello: channel.hello };
        candidates.set(selected, c);
      }
      const record = await transport.pair(c.channel, code.value, name.value.trim() || defaultDeviceName(transport.identity?.appId));
      await ctx.paired(record);
    } catch (err) {
      showError(ERRORS[err.code] || err.message || "Pairing failed.");
      if (err.code === "bad_code") {
        code.select();
      } else {
        candidates.delete(selected);
      }
    } finally {
      busy = false;
      submit.textContent = "Pair";
      updateSubmit();
    }
  }

  scope.interval(search, SEARCH_INTERVAL_MS);
  scope.listen(transport, "registrar-open", search);
  search();
  scope.defer(() => {
    for (const c of candidates.values()) if (c.channel && c.channel !== transport.channel) c.channel.close();
  });

  return h(
    "section.pair",
    { "aria-labelledby": "pair-title" },
    h("div.hero", {}, h("div.hero-icon", {}, icon("lock")), h("h2", { id: "pair-title" }, "Pair this phone"), h("p.muted", {}, "Pair once on your home network. Then reach your cameras from anywhere, end-to-end encrypted.")),
    h("h3", {}, "1. Choose your edge"),
    searching,
    list,
    h(
      "form.card.pair-form",
      { onsubmit: onSubmit, novalidate: true },
      h("h3", {}, "2. Enter the code"),
      h("label", { htmlFor: "pair-code" }, "6-digit code"),
      code,
      h("p.muted.small", { id: "pair-code-help" }, "Home Assistant: press “Pair a phone” on the Peerwatch device. Plain edge or demo: the code it printed (Enter in the demo's terminal prints a new one). A code works for 5 minutes."),
      h("label", { htmlFor: "pair-name" }, "Name of this device"),
      name,
      error,
      submit,
    ),
  );
}
