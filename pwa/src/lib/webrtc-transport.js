// Remote transport: PeerJS signaling through the registrar, then one authenticated DataChannel
// to the paired edge. Reconnects (with back-off) when the registrar or the channel drops.

import { Peer } from "peerjs";
import { Backoff } from "./backoff.js";
import { ChannelError, EdgeChannel } from "./channel.js";
import { Transport } from "./transport.js";

const OPEN_TIMEOUT_MS = 10000;
const REFUSED = new Set(["unauthorized", "revoked", "pin_mismatch", "bad_edge_mac"]);
const REGISTRAR_ERRORS = new Set(["network", "server-error", "socket-error", "socket-closed", "unavailable-id"]);

/** Registrar settings {host, port, path, key, secure} from a URL like https://host:port/path/. */
export function registrarFromUrl(url, key = "peerjs") {
  const u = new URL(url);
  const secure = u.protocol === "https:";
  return { host: u.hostname, port: Number(u.port) || (secure ? 443 : 80), path: u.pathname || "/", key, secure };
}

export class WebRtcTransport extends Transport {
  /**
   * @param options {registrar, identity, pairing (or null while unpaired), iceServers (the ones
   *   the edge's /info gave last time: the channel to the edge needs them before it can ask)}
   */
  constructor({ registrar, identity, pairing, iceServers = [] }) {
    super();
    this.kind = "webrtc";
    this.registrar = registrar;
    this.identity = identity;
    this.pairing = pairing;
    this.iceServers = iceServers;
    this.peer = null;
    this.registrarOnline = false;
    this.channel = null;
    this.regBackoff = new Backoff();
    this.edgeBackoff = new Backoff();
    this.regTimer = null;
    this.edgeTimer = null;
    this.closed = false;
    this.setState({ phase: "connecting", registrar: "connecting", message: "Reaching the signaling server…" });
  }

  start() {
    this._newPeer();
  }

  // --- registrar -------------------------------------------------------------------------

  _newPeer() {
    if (this.closed) return;
    const { host, port, path, key, secure } = this.registrar;
    const peer = new Peer(this.identity.appId, {
      host,
      port,
      path,
      key,
      secure,
      debug: 0,
      config: { iceServers: this.iceServers, certificates: [this.identity.certificate] },
    });
    this.peer = peer;
    peer.on("open", () => this._registrarOpen(peer));
    peer.on("disconnected", () => this._registrarLost(peer));
    peer.on("close", () => this._registrarLost(peer));
    peer.on("error", (err) => {
      if (REGISTRAR_ERRORS.has(err.type)) this._registrarLost(peer);
    });
    this._armOpenTimeout(peer);
  }

  _armOpenTimeout(peer) {
    clearTimeout(this.openTimer);
    this.openTimer = setTimeout(() => {
      // A same-token takeover gets no OPEN: drop the socket and register afresh.
      if (this.peer === peer && !peer.open && !peer.destroyed) peer.disconnect();
    }, OPEN_TIMEOUT_MS);
  }

  _registrarOpen(peer) {
    if (peer !== this.peer) return;
    clearTimeout(this.openTimer);
    this.regBackoff.reset();
    this.registrarOnline = true;
    this.joinedRoom = null; // a new registration starts outside any room
    this.setState({ registrar: "online" });
    this._updatePhase();
    this.dispatchEvent(new Event("registrar-open"));
    this._connectEdge();
  }

  _registrarLost(peer) {
    if (peer !== this.peer || this.closed || this.regTimer) return;
    clearTimeout(this.openTimer);
    this.registrarOnline = false;
    const delay = this.regBackoff.next();
    this.setState({ registrar: "offline", registrarRetryAt: Date.now() + delay });
    this._updatePhase();
    this.regTimer = setTimeout(() => this._reconnectRegistrar(peer), delay);
  }

  _reconnectRegistrar(peer) {
    clearTimeout(this.regTimer);
    this.regTimer = null;
    if (peer !== this.peer || this.closed) return;
    if (peer.destroyed) {
      this._newPeer();
    } else if (peer.disconnected) {
      this.setState({ registrar: "connecting" });
      peer.reconnect();
      this._armOpenTimeout(peer);
    }
  }

  /** Base URL of the registrar's room routes for this peer. */
  _roomBase() {
    const { host, port, path, key, secure } = this.registrar;
    const p = path.endsWith("/") ? path : `${path}/`;
    const { id } = this.peer;
    const token = this.peer.options.token;
    return `${secure ? "https" : "http"}://${host}:${port}${p}${key}/${id}/${token}/room/`;
  }

  /** Join our plug-and-play room (once per registration); returns the `pw-edge-*` ids in it. */
  async findEdges() {
    if (!this.registrarOnline) throw new ChannelError("offline", "The signaling server is not reachable.");
    const base = this._roomBase();
    const get = async (url, init) => {
      const resp = await fetch(url, init);
      if (!resp.ok) throw new ChannelError("room", `The signaling server refused the room request (HTTP ${resp.status}).`);
      return resp.json();
    };
    let ids;
    if (this.joinedRoom) {
      ids = await get(`${base}${this.joinedRoom}/members`);
    } else {
      const { roomId } = await get(`${base}id`);
      ids = (await get(`${base}${roomId}/join`, { method: "POST" }))?.clientsIds;
      this.joinedRoom = roomId;
    }
    return (Array.isArray(ids) ? ids : []).filter((id) => typeof id === "string" && id.startsWith("pw-edge-"));
  }

  /** Open an unauthenticated channel to an edge and read its hello (for the pairing screen). */
  async probeEdge(edgeId) {
    const channel = new EdgeChannel(this.peer, edgeId, this.identity);
    try {
      await channel.open(OPEN_TIMEOUT_MS);
    } catch (err) {
      channel.close();
      throw err;
    }
    return channel;
  }

  /** Pair over a probed channel; on success the channel becomes this transport's channel. */
  async pair(channel, code, deviceName) {
    const record = await channel.pair(code, deviceName);
    this.pairing = record;
    this._adopt(channel);
    return record;
  }

  // --- edge channel ----------------------------------------------------------------------

  async _connectEdge() {
    if (this.closed || !this.pairing || !this.registrarOnline || this.channel || this.edgeTimer) return;
    const channel = new EdgeChannel(this.peer, this.pairing.edge_id, this.identity);
    this.channel = channel;
    this.setState({ edge: "connecting" });
    this._updatePhase();
    try {
      await channel.open(OPEN_TIMEOUT_MS);
      await channel.auth(this.pairing);
    } catch (err) {
      this.channel = null;
      channel.close();
      this._edgeLost(err);
      return;
    }
    this._adopt(channel);
  }

  _adopt(channel) {
    this.channel = channel;
    this.edgeBackoff.reset();
    channel.addEventListener("push", (e) => this.dispatchEvent(new CustomEvent("push", { detail: e.detail })));
    channel.addEventListener("close", (e) => {
      if (this.channel !== channel) return;
      this.channel = null;
      this.closeVideos();
      this._edgeLost(e.detail);
    });
    this.setState({ edge: "online", edgeError: null });
    this._updatePhase();
    this.dispatchEvent(new Event("ready"));
  }

  _edgeLost(err) {
    if (this.closed) return;
    if (REFUSED.has(err?.code)) {
      this.setState({ edge: "refused", edgeError: err });
      this._updatePhase();
      return;
    }
    const delay = this.edgeBackoff.next();
    this.setState({ edge: "offline", edgeError: err, edgeRetryAt: Date.now() + delay });
    this._updatePhase();
    clearTimeout(this.edgeTimer);
    this.edgeTimer = setTimeout(() => {
      this.edgeTimer = null;
      this._connectEdge();
    }, delay);
  }

  /** Retry now (the "Retry" button). */
  retry() {
    clearTimeout(this.edgeTimer);
    this.edgeTimer = null;
    this.edgeBackoff.reset();
    this.regBackoff.reset();
    if (this.regTimer) this._reconnectRegistrar(this.peer);
    this._connectEdge();
  }

  /** Summarise registrar and edge states into one phase and message for the UI. */
  _updatePhase() {
    const { registrar, edge, edgeError, registrarRetryAt, edgeRetryAt } = this.state;
    const name = this.pairing?.name || "your edge";
    let phase;
    let message;
    let retryAt = null;
    if (edge === "online") {
      phase = "online";
      message = registrar === "online" ? `Connected to ${name}` : `Connected to ${name} · signaling reconnecting`;
    } else if (edge === "refused") {
      phase = "refused";
      message =
        edgeError?.code === "revoked"
          ? "This device was revoked on the edge. Pair it again."
          : edgeError?.code === "unauthorized"
            ? "The edge no longer knows this device. Pair it again."
            : edgeError?.message || "The edge refused this device.";
    } else if (registrar !== "online") {
      phase = "offline";
      message = "Signaling server unreachable";
      retryAt = registrar === "offline" ? registrarRetryAt : null;
    } else if (!this.pairing) {
      phase = "unpaired";
      message = "Not paired";
    } else if (edge === "offline") {
      phase = "offline";
      message = `${name} is unreachable`;
      retryAt = edgeRetryAt;
    } else {
      phase = "connecting";
      message = `Connecting to ${name}…`;
    }
    this.setState({ phase, message, retryAt });
  }

  request(method, path, body = null, options = {}) {
    if (this.channel?.ready) return this.channel.request(method, path, body, options);
    return this.whenReady().then(() => this.channel.request(method, path, body, options));
  }

  setIceServers(servers) {
    super.setIceServers(servers);
    // PeerJS makes each connection's RTCPeerConnection from its options' config.
    if (this.peer) this.peer.options.config.iceServers = servers;
  }

  close() {
    this.closed = true;
    clearTimeout(this.regTimer);
    clearTimeout(this.edgeTimer);
    clearTimeout(this.openTimer);
    this.closeVideos();
    this.channel?.close();
    this.peer?.destroy();
  }
}
