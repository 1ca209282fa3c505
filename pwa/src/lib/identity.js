// This browser's stable PeerJS id and persistent DTLS certificate.

import { fingerprintOfCertificate } from "./crypto.js";
import { kv } from "./store.js";

const DAY_MS = 86400000;
const CERT_LIFETIME_MS = 365 * DAY_MS;

function randomHex(bytes) {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Load (or make once) `{appId, certificate, fingerprint}`; renews the certificate before it expires. */
export async function loadIdentity() {
  let appId = await kv.get("appId");
  if (!appId) {
    appId = `pw-app-${randomHex(16)}`;
    await kv.set("appId", appId);
  }
  let certificate = await kv.get("certificate");
  if (!certificate || certificate.expires < Date.now() + 7 * DAY_MS) {
    certificate = await RTCPeerConnection.generateCertificate({
      name: "ECDSA",
      namedCurve: "P-256",
      expires: CERT_LIFETIME_MS,
    });
    await kv.set("certificate", certificate);
  }
  return { appId, certificate, fingerprint: fingerprintOfCertificate(certificate) };
}
