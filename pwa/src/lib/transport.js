// The transport interface the screens use, shared by the WebRTC and the direct-HTTP transports.
//
// Events: "state" (detail: the state object), "push" (detail: a push message as GET /api/v1/ws
// sends it), "ready" (the edge can be asked). Methods: request(method, path, body, {signal,
// headers: {range}}) →
// Response, json(...) → parsed body (throws ApiError), openVideo(cameraId), close(). The edge's
// JSON shapes are given by the JSON Schemas in docs/schemas of the repository.

import { openLiveVideo } from "./video.js";

export const READY_TIMEOUT_MS = 20000;

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export class Transport extends EventTarget {
  constructor() {
    super();
    this.state = { phase: "connecting", message: "Connecting…", retryAt: null };
    this.videos = new Set();
    this.iceServers = [];
  }

  /** Use these ICE servers (`ice_servers` of /api/v1/info) for the connections made from now on. */
  setIceServers(servers) {
    this.iceServers = servers;
  }

  /** Merge `patch` into the state and tell listeners. */
  setState(patch) {
    this.state = { ...this.state, ...patch };
    this.dispatchEvent(new CustomEvent("state", { detail: this.state }));
  }

  /** True when requests can be sent right now. */
  get ready() {
    return this.state.phase === "online";
  }

  /** Resolve once ready (or reject after `timeout` ms). */
  whenReady(timeout = READY_TIMEOUT_MS) {
    if (this.ready) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.removeEventListener("ready", onReady);
        reject(new ApiError(0, this.state.message || "Not connected to the edge."));
      }, timeout);
      this.addEventListener("ready", onReady, { once: true });
    });
  }

  /** Request that parses a JSON answer and turns HTTP errors into ApiError. */
  async json(method, path, body = null, options = {}) {
    const resp = await this.request(method, path, body, options);
    const text = await resp.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      if (resp.ok) throw new ApiError(resp.status, `Not JSON from ${path}`);
    }
    if (!resp.ok) throw new ApiError(resp.status, data?.message || data?.error || `HTTP ${resp.status} from ${path}`);
    return data;
  }

  /** Fetch a binary body (an image) as a Blob; throws ApiError on failure. */
  async blob(path, options = {}) {
    const resp = await this.request("GET", path, null, options);
    if (!resp.ok) throw new ApiError(resp.status, `HTTP ${resp.status} from ${path}`);
    return resp.blob();
  }

  /** Live video of a camera: `{stream, close()}`; ends when the transport closes. */
  async openVideo(cameraId) {
    const video = await openLiveVideo((m, p, b) => this.request(m, p, b), cameraId, this.iceServers);
    this.videos.add(video);
    const close = video.close;
    video.close = () => {
      this.videos.delete(video);
      close();
    };
    return video;
  }

  closeVideos() {
    for (const video of [...this.videos]) video.close();
  }
}
