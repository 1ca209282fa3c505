// WebCrypto helpers for the pairing and auth handshake (docs/remote-protocol.md, "Encodings").

const enc = new TextEncoder();
export const PBKDF2_ITERATIONS = 200000;

/** Standard base64 (with padding) of bytes. */
export function b64encode(bytes) {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let s = "";
  for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode(...u8.subarray(i, i + 0x8000));
  return btoa(s);
}

/** Bytes of a standard base64 string; throws on malformed input. */
export function b64decode(text) {
  if (typeof text !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) {
    throw new Error("malformed base64");
  }
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** A fresh nonce: base64 of 32 random bytes. */
export function newNonce() {
  return b64encode(crypto.getRandomValues(new Uint8Array(32)));
}

/** HMAC-SHA256(key bytes, UTF-8 text) as bytes. */
export async function hmacSha256(keyBytes, text) {
  const key = await crypto.subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(text)));
}

/** PBKDF2-HMAC-SHA256(code, salt bytes) → 32 bytes (the pairing key K). */
export async function pairingKey(code, saltBytes, iterations = PBKDF2_ITERATIONS) {
  const base = await crypto.subtle.importKey("raw", enc.encode(code), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt: saltBytes, iterations },
    base,
    256,
  );
  return new Uint8Array(bits);
}

/** "sha-256 AB:CD:…" from a SHA-256 digest. */
export function formatFingerprint(digest) {
  const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0").toUpperCase());
  return `sha-256 ${hex.join(":")}`;
}

/** Fingerprint of a DER certificate (what the edge presents in DTLS). */
export async function fingerprintOfDer(der) {
  return formatFingerprint(await crypto.subtle.digest("SHA-256", der));
}

/** Fingerprint of our own RTCCertificate, in the same form. */
export function fingerprintOfCertificate(cert) {
  const fp = cert.getFingerprints().find((f) => f.algorithm === "sha-256");
  if (!fp) throw new Error("certificate has no sha-256 fingerprint");
  return `sha-256 ${fp.value.toUpperCase()}`;
}

/** Compare two byte arrays without an early exit. */
export function bytesEqual(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** T: the string both sides MAC for auth. */
export function authTranscript(edgeNonce, appNonce, fpApp, fpEdge) {
  return ["peerwatch-auth-v1", edgeNonce, appNonce, fpApp, fpEdge].join("|");
}

/** P: the string both sides MAC for pairing. */
export function pairTranscript(edgeNonce, appNonce, fpApp, fpEdge) {
  return ["peerwatch-pair-v1", edgeNonce, appNonce, fpApp, fpEdge].join("|");
}

/** True when b64 `mac` equals HMAC-SHA256(key, text). */
export async function macMatches(keyBytes, text, mac) {
  let given;
  try {
    given = b64decode(mac);
  } catch {
    return false;
  }
  return bytesEqual(given, await hmacSha256(keyBytes, text));
}
