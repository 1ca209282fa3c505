// One DataChannel to an edge: the hello/auth/pair handshake, then RPC and pushes
// (docs/remote-protocol.md).

import {
  authTranscript,
  b64decode,
  b64encode,
  fingerprintOfDer,
  hmacSha256,
  macMatches,
  newNonce,
  pairingKey,
  pairTranscript,
} from "./crypto.js";
import { RpcClient } from "./rpc.js";

export const CHANNEL_OPTIONS = { label: "peerwatch", serialization: "raw", reliable: true };
export const HANDSHAKE_TIMEOUT_MS = 10000;

/** An error the edge (or our own checks) reported, with a protocol code. */
export class ChannelError extends Error {
  constructor(code, message) {
    super(message || code);
    this.code = code;
  }
}

export class EdgeChannel extends EventTarget {
  /**
   * @param peer an open PeerJS Peer
   * @param edgeId the edge's peer id
   * @param identity {fingerprint} of this browser
   */
  constructor(peer, edgeId, identity) {
    super();
    this.edgeId = edgeId;
    this.identity = identity;
    this.hello = null;
    this.ready = false;
    this.closedReason = null;
    this.inbox = [];
    this.waiter = null;
    this.conn = peer.connect(edgeId, CHANNEL_OPTIONS);
    this.rpc = new RpcClient((text) => this.conn.send(text));
    this.conn.on("data", (data) => this._onData(data));
    this.conn.on("close", () => this._closed(new ChannelError("closed", "The connection to the edge closed.")));
    this.conn.on("error", (err) => this._closed(new ChannelError("channel", err.message)));
  }

  /** Wait for the channel to open and the edge's hello. */
  async open(timeout = HANDSHAKE_TIMEOUT_MS) {
    const hello = await this._next(timeout);
    if (hello.type !== "hello" || hello.version !== 1 || typeof hello.nonce !== "string") {
      throw this.fail(new ChannelError("bad_hello", "The peer did not greet like a Peerwatch edge."));
    }
    if (hello.edge_id && hello.edge_id !== this.edgeId) {
      throw this.fail(new ChannelError("bad_hello", "The edge's id does not match the one we called."));
    }
    this.hello = hello;
    return hello;
  }

  /** SHA-256 fingerprint of the certificate the edge presented in DTLS. */
  async remoteFingerprint() {
    const certs = this.conn.peerConnection?.sctp?.transport?.getRemoteCertificates?.() ?? [];
    if (!certs.length) throw this.fail(new ChannelError("no_certificate", "The edge presented no certificate."));
    return fingerprintOfDer(certs[0]);
  }

  /** Authenticate as a paired device; checks the pinned fingerprint first (mutual HMAC). */
  async auth(pairing) {
    const fpEdge = await this.remoteFingerprint();
    if (fpEdge !== pairing.fingerprint) {
      throw this.fail(
        new ChannelError("pin_mismatch", "Security check failed: this is not the edge you paired with."),
      );
    }
    const key = b64decode(pairing.device_key);
    const appNonce = newNonce();
    const t = authTranscript(this.hello.nonce, appNonce, this.identity.fingerprint, fpEdge);
    const mac = await hmacSha256(key, t);
    this._sendJson({ type: "auth", device_id: pairing.device_id, nonce: appNonce, mac: b64encode(mac) });
    const reply = await this._next(HANDSHAKE_TIMEOUT_MS);
    if (reply.type === "error") throw this.fail(new ChannelError(reply.code, reply.message));
    if (reply.type !== "auth_ok" || !(await macMatches(key, `peerwatch-edge-v1|${t}`, reply.mac))) {
      throw this.fail(new ChannelError("bad_edge_mac", "The edge could not prove it knows this device's key."));
    }
    this.ready = true;
  }

  /**
   * Pair with the 6-digit code. Resolves to the record to store; rejects with a ChannelError whose
   * code is bad_code (channel stays open for a retry), pairing_closed or too_many_attempts.
   */
  async pair(code, deviceName) {
    if (!/^\d{6}$/.test(code)) throw new ChannelError("bad_code", "The code has 6 digits.");
    const fpEdge = await this.remoteFingerprint();
    const appNonce = newNonce();
    const p = pairTranscript(this.hello.nonce, appNonce, this.identity.fingerprint, fpEdge);
    const k = await pairingKey(code, b64decode(this.hello.nonce));
    this._sendJson({ type: "pair", device_name: deviceName, nonce: appNonce, mac: b64encode(await hmacSha256(k, p)) });
    const reply = await this._next(HANDSHAKE_TIMEOUT_MS);
    if (reply.type === "error") {
      const err = new ChannelError(reply.code, reply.message);
      if (reply.code !== "bad_code") this.fail(err);
      throw err;
    }
    if (
      reply.type !== "paired" ||
      typeof reply.device_id !== "string" ||
      !(await macMatches(k, `peerwatch-paired-v1|${p}|${reply.device_id}`, reply.mac))
    ) {
      throw this.fail(new ChannelError("bad_edge_mac", "The edge's answer did not check out; not paired."));
    }
    let key;
    try {
      key = b64decode(reply.device_key);
    } catch {
      key = null;
    }
    if (key?.length !== 32) throw this.fail(new ChannelError("bad_request", "The edge sent a malformed device key."));
    this.ready = true;
    return {
      edge_id: this.edgeId,
      name: reply.name || this.hello.name || this.edgeId,
      fingerprint: fpEdge,
      device_id: reply.device_id,
      device_key: reply.device_key,
      paired_at: new Date().toISOString(),
    };
  }

  /** RPC request (only after auth or pairing). */
  request(method, path, body = null, options = {}) {
    if (!this.ready) return Promise.reject(new ChannelError("not_ready", "not authenticated"));
    return this.rpc.request(method, path, body, options);
  }

  _sendJson(message) {
    this.conn.send(JSON.stringify(message));
  }

  _onData(data) {
    if (typeof data !== "string") {
      if (this.ready && data instanceof ArrayBuffer) this.rpc.handleBinary(data);
      return;
    }
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      return;
    }
    if (!msg || typeof msg !== "object") return;
    if (this.ready) {
      if (msg.type === "response") this.rpc.handleResponse(msg);
      else if (msg.type === "push" && msg.message) this.dispatchEvent(new CustomEvent("push", { detail: msg.message }));
      else if (msg.type === "error") this.fail(new ChannelError(msg.code, msg.message));
      return;
    }
    if (this.waiter) {
      const { resolve } = this.waiter;
      this.waiter = null;
      resolve(msg);
    } else {
      this.inbox.push(msg);
    }
  }

  _next(timeout) {
    if (this.closedReason) return Promise.reject(this.closedReason);
    if (this.inbox.length) return Promise.resolve(this.inbox.shift());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(this.fail(new ChannelError("timeout", "The edge did not answer in time.")));
      }, timeout);
      this.waiter = {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
  }

  /** Close the channel because of `err`; returns `err` for throwing. */
  fail(err) {
    this._closed(err);
    return err;
  }

  close() {
    this._closed(new ChannelError("closed", "closed"));
  }

  _closed(err) {
    if (this.closedReason) return;
    this.closedReason = err;
    this.ready = false;
    this.rpc.close(err);
    this.waiter?.reject(err);
    this.waiter = null;
    try {
      this.conn.close();
    } catch {
      // already closed
    }
    this.dispatchEvent(new CustomEvent("close", { detail: err }));
  }
}
