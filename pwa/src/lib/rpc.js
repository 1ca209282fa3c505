// Request/response RPC over the authenticated DataChannel: many requests in flight, each answered
// by a JSON "response" header and then binary frames (see frames.js).

import { Reassembler } from "./frames.js";

const MAX_ID = 0xffffffff;
export const REQUEST_TIMEOUT_MS = 30000;
/** Requests sent at once; more wait here (the edge answers 429 beyond 32 in flight). */
export const MAX_IN_FLIGHT = 24;

export class RpcError extends Error {}

export class RpcClient {
  /** @param {(text: string) => void} sendText sends one text frame on the channel */
  constructor(sendText) {
    this.sendText = sendText;
    this.nextId = 1;
    this.calls = new Map();
    this.frames = new Reassembler();
    this.queue = [];
    this.closed = null;
  }

  _allocateId() {
    for (;;) {
      const id = this.nextId;
      this.nextId = id >= MAX_ID ? 1 : id + 1;
      if (!this.calls.has(id)) return id;
    }
  }

  /** Send a request (or queue it while MAX_IN_FLIGHT are out); resolves to a fetch-style Response.
   * `options`: {signal, timeout, headers: {range: "bytes=a-b"}} (range is the one header sent). */
  request(method, path, body = null, options = {}) {
    if (this.closed) return Promise.reject(this.closed);
    if (!path.startsWith("/api/v1/")) return Promise.reject(new RpcError(`not an API path: ${path}`));
    if (options.signal?.aborted) return Promise.reject(new DOMException("request aborted", "AbortError"));
    if (this.calls.size < MAX_IN_FLIGHT) return this._start(method, path, body, options);
    return new Promise((resolve, reject) => {
      const waiter = {
        run: () => this._start(method, path, body, options).then(resolve, reject),
        reject,
      };
      this.queue.push(waiter);
      options.signal?.addEventListener(
        "abort",
        () => {
          const i = this.queue.indexOf(waiter);
          if (i < 0) return;
          this.queue.splice(i, 1);
          reject(new DOMException("request aborted", "AbortError"));
        },
        { once: true },
      );
    });
  }

  _startQueued() {
    while (!this.closed && this.queue.length && this.calls.size < MAX_IN_FLIGHT) this.queue.shift().run();
  }

  _start(method, path, body, { signal, headers, timeout = REQUEST_TIMEOUT_MS } = {}) {
    if (signal?.aborted) return Promise.reject(new DOMException("request aborted", "AbortError"));
    const id = this._allocateId();
    return new Promise((resolve, reject) => {
      const finish = (fn, value) => {
        clearTimeout(call.timer);
        signal?.removeEventListener("abort", call.onAbort);
        this.calls.delete(id);
        this.frames.drop(id);
        fn(value);
        this._startQueued();
      };
      const call = {
        head: null,
        resolve: (v) => finish(resolve, v),
        reject: (e) => finish(reject, e),
        onAbort: () => {
          this._send({ type: "cancel", id });
          call.reject(new DOMException("request aborted", "AbortError"));
        },
        timer: setTimeout(() => call.reject(new RpcError(`${method} ${path} timed out`)), timeout),
      };
      this.calls.set(id, call);
      signal?.addEventListener("abort", call.onAbort, { once: true });
      this._send({ type: "request", id, method, path, body, ...(headers ? { headers } : {}) });
    });
  }

  _send(message) {
    try {
      this.sendText(JSON.stringify(message));
    } catch (err) {
      this.close(new RpcError(`channel send failed: ${err.message}`));
    }
  }

  /** Handle a "response" message; returns false when it is for no call of ours. */
  handleResponse(msg) {
    const call = this.calls.get(msg.id);
    if (!call || call.head) return false;
    const size = msg.size ?? 0;
    if (!Number.isInteger(msg.status)) {
      call.reject(new RpcError(`malformed response ${msg.id}`));
      return true;
    }
    call.head = msg;
    try {
      if (size === 0) this._complete(call, new Uint8Array(0));
      else this.frames.expect(msg.id, size);
    } catch (err) {
      call.reject(new RpcError(`response ${msg.id}: ${err.message}`));
    }
    return true;
  }

  /** Handle one binary frame. */
  handleBinary(buffer) {
    let done;
    try {
      done = this.frames.add(buffer);
    } catch (err) {
      const id = buffer.byteLength >= 4 ? new DataView(buffer).getUint32(0) : -1;
      this.calls.get(id)?.reject(new RpcError(err.message));
      return;
    }
    if (done) {
      const call = this.calls.get(done.id);
      if (call) this._complete(call, done.body);
    }
  }

  _complete(call, body) {
    const { status, headers } = call.head;
    const noBody = status === 204 || status === 304 || body.length === 0;
    try {
      call.resolve(new Response(noBody ? null : body, { status, headers: headers ?? {} }));
    } catch (err) {
      call.reject(new RpcError(`bad response: ${err.message}`));
    }
  }

  /** Fail every call in flight; later requests fail at once. */
  close(reason = new RpcError("connection closed")) {
    this.closed = reason;
    for (const waiter of this.queue.splice(0)) waiter.reject(reason);
    for (const call of [...this.calls.values()]) call.reject(reason);
  }

  get inFlight() {
    return this.calls.size;
  }
}
