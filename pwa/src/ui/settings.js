// Settings: the paired edge, this device, the signaling server, and "forget this edge".

import { h } from "./dom.js";

export function renderSettings(ctx) {
  const { transport, pairing, identity } = ctx;
  const rows = (pairs) => h("dl.facts", {}, pairs.filter(([, v]) => v).map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));

  if (transport.kind === "http") {
    return h(
      "section.settings",
      { "aria-label": "Settings" },
      h("div.card", {}, h("h3", {}, "Opened through Home Assistant"), h("p.muted", {}, "This view talks to the edge directly; Home Assistant signs you in. To use Peerwatch away from home, open the app from your registrar's address on your phone and pair it.")),
      h("p.muted.small.center", {}, `Peerwatch app ${ctx.version}`),
    );
  }

  const registrarUrl = h("input", { id: "registrar-url", type: "url", value: ctx.registrarUrl, required: true });
  async function saveRegistrar(e) {
    e.preventDefault();
    try {
      await ctx.setRegistrar(new URL(registrarUrl.value).href);
    } catch {
      ctx.toast("That is not a valid URL.");
    }
  }

  async function forget() {
    if (!confirm(`Forget ${pairing?.name || "this edge"}? You will need a new code from Home Assistant to pair again.`)) return;
    await ctx.forget({ revoke: true });
  }

  return h(
    "section.settings",
    { "aria-label": "Settings" },
    pairing
      ? h(
          "div.card",
          {},
          h("h3", {}, "Your edge"),
          rows([
            ["Name", pairing.name],
            ["Peer id", h("span.mono", {}, pairing.edge_id)],
            ["Certificate", h("span.mono.small", {}, pairing.fingerprint)],
            ["Paired", pairing.paired_at && new Date(pairing.paired_at).toLocaleString()],
          ]),
          h("button.danger", { type: "button", onclick: forget }, "Forget this edge"),
        )
      : null,
    h(
      "div.card",
      {},
      h("h3", {}, "This device"),
      rows([
        ["Device id", pairing && h("span.mono", {}, pairing.device_id)],
        ["Peer id", h("span.mono", {}, identity.appId)],
        ["Certificate", h("span.mono.small", {}, identity.fingerprint)],
      ]),
    ),
    h(
      "form.card",
      { onsubmit: saveRegistrar },
      h("h3", {}, "Signaling server"),
      h("p.muted.small", {}, "Only relays connection set-up; it never sees your events or video."),
      h("label", { htmlFor: "registrar-url" }, "Registrar URL"),
      registrarUrl,
      h("button", { type: "submit" }, "Save and reconnect"),
    ),
    h("p.muted.small.center", {}, `Peerwatch app ${ctx.version}`),
  );
}
