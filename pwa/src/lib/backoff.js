// Exponential back-off with jitter for reconnect loops.

export class Backoff {
  constructor(minMs = 1000, maxMs = 30000) {
    this.minMs = minMs;
    this.maxMs = maxMs;
    this.attempt = 0;
  }

  /** The next delay in ms (1 s, 2 s, 4 s … up to maxMs, ±20 %). */
  next() {
    const base = Math.min(this.maxMs, this.minMs * 2 ** this.attempt++);
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  reset() {
    this.attempt = 0;
  }
}
