// Binary response bodies over the DataChannel: frames `[u32 BE request id][payload]`, reassembled
// per request until the announced size has arrived (docs/remote-protocol.md, "The DataChannel").

export const HEADER_BYTES = 4;
export const MAX_BODY_BYTES = 64 * 1024 * 1024;

/** Split one binary frame into its request id and payload view. */
export function parseFrame(buffer) {
  if (buffer.byteLength < HEADER_BYTES) throw new Error(`binary frame too short (${buffer.byteLength} bytes)`);
  const id = new DataView(buffer).getUint32(0, false);
  return { id, payload: new Uint8Array(buffer, HEADER_BYTES) };
}

/** Collects the binary frames of many interleaved responses. */
export class Reassembler {
  constructor() {
    this.bodies = new Map();
  }

  /** Expect `size` bytes for request `id`. */
  expect(id, size) {
    if (!Number.isSafeInteger(size) || size < 0 || size > MAX_BODY_BYTES) throw new Error(`bad body size ${size}`);
    this.bodies.set(id, { buf: new Uint8Array(size), got: 0 });
  }

  /** Forget a request (cancelled or failed). */
  drop(id) {
    this.bodies.delete(id);
  }

  /** Whether a body for `id` is still being collected. */
  pending(id) {
    return this.bodies.has(id);
  }

  /**
   * Add one frame. Returns `{id, body}` once that body is complete, null while it is not, and
   * throws when a frame overflows the announced size. Frames for unknown ids (for example after a
   * cancel) are ignored.
   */
  add(buffer) {
    const { id, payload } = parseFrame(buffer);
    const entry = this.bodies.get(id);
    if (!entry) return null;
    if (entry.got + payload.length > entry.buf.length) {
      this.bodies.delete(id);
      throw new Error(`response ${id}: more bytes than announced (${entry.buf.length})`);
    }
    entry.buf.set(payload, entry.got);
    entry.got += payload.length;
    if (entry.got < entry.buf.length) return null;
    this.bodies.delete(id);
    return { id, body: entry.buf };
  }
}
