// Direct transport: the page is served by the edge itself (Home Assistant ingress), so the API
// is same-origin at ./api/v1 (ingress authenticates) and pushes come over ./api/v1/ws.

import { Backoff } from "./backoff.js";
import { Transport } from "./transport.js";

export class HttpTransport extends Transport {
  constructor(base = new URL("./", document.baseURI)) {
    super();
    this.base = base;
    this.kind = "http";
    this.backoff = new Backoff();
    this.ws = null;
    this.timer = null;
    this.closed = false;
  }

  /** Start with the edge's /info answer (already fetched by the caller). */
  start() {
    this.setState({ phase: "online", message: "Connected", retryAt: null });
    this.dispatchEvent(new Event("ready"));
    this._connectPushes();
  }

  _url(path) {
    return new URL(`.${path}`, this.base);
  }

  /** The URL a media element can load `path` from itself (same origin: HTTP Range works). */
  mediaUrl(path) {
    return this._url(path).href;
  }

  request(method, path, body = null, { signal, headers = {} } = {}) {
    const init = { method, signal, headers: { ...headers } };
    if (body !== null && body !== undefined) {
      init.headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(this._url(path), init);
  }

  _connectPushes() {
    if (this.closed) return;
    const url = this._url("/api/v1/ws");
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onopen = () => {
      this.backoff.reset();
      if (this.ready) return;
      this.setState({ phase: "online", message: "Connected", retryAt: null });
      this.dispatchEvent(new Event("ready"));
    };
    ws.onmessage = (e) => {
      try {
        this.dispatchEvent(new CustomEvent("push", { detail: JSON.parse(e.data) }));
      } catch {
        // not JSON: ignore
      }
    };
    ws.onclose = () => {
      if (this.closed || this.ws !== ws) return;
      const delay = this.backoff.next();
      this.setState({ phase: "offline", message: "The edge is unreachable", retryAt: Date.now() + delay });
      this.timer = setTimeout(() => this._connectPushes(), delay);
    };
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    this.ws?.close();
    this.closeVideos();
  }
}
