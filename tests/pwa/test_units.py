"""The PWA's crypto, frame reassembly and RPC client, run in real Chromium from the ES module
sources and checked against Python's hmac/hashlib/base64 as the reference the edge uses."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import struct
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from playwright.async_api import Browser, Page

pytestmark = pytest.mark.slow


async def module_page(browser: Browser, src_server: str) -> Page:
    """A page with the crypto, frames and rpc modules loaded as window.pw."""
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(f"{src_server}/index.html")
    await page.evaluate(
        """async () => {
            const [crypto, frames, rpc] = await Promise.all([
                import("./lib/crypto.js"), import("./lib/frames.js"), import("./lib/rpc.js")]);
            window.pw = {...crypto, ...frames, ...rpc};
        }"""
    )
    assert not errors, errors
    return page


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def fingerprint(der: bytes) -> str:
    """The protocol's FP form, computed the edge's way."""
    return "sha-256 " + ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


def der_certificate() -> bytes:
    """A real self-signed ECDSA certificate like the edge's DTLS one, DER-encoded."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "peerwatch-edge")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)


async def test_crypto_matches_python_reference(browser: Browser, src_server: str) -> None:
    page = await module_page(browser, src_server)
    key = os.urandom(32)
    edge_nonce_raw = os.urandom(32)
    edge_nonce = base64.b64encode(edge_nonce_raw).decode()
    app_nonce = base64.b64encode(os.urandom(32)).decode()
    der = der_certificate()
    fp_edge = fingerprint(der)
    fp_app = fingerprint(os.urandom(64))
    got = await page.evaluate(
        """async ([keyB64, edgeNonce, appNonce, derB64, fpApp]) => {
            const key = pw.b64decode(keyB64);
            const fpEdge = await pw.fingerprintOfDer(pw.b64decode(derB64));
            const t = pw.authTranscript(edgeNonce, appNonce, fpApp, fpEdge);
            const p = pw.pairTranscript(edgeNonce, appNonce, fpApp, fpEdge);
            const k = await pw.pairingKey("042917", pw.b64decode(edgeNonce));
            return {
                fpEdge, t, p,
                authMac: pw.b64encode(await pw.hmacSha256(key, t)),
                edgeMacOk: await pw.macMatches(key, "peerwatch-edge-v1|" + t,
                    pw.b64encode(await pw.hmacSha256(key, "peerwatch-edge-v1|" + t))),
                k: pw.b64encode(k),
                pairMac: pw.b64encode(await pw.hmacSha256(k, p)),
                nonceLen: pw.b64decode(pw.newNonce()).length,
                keyRoundTrip: pw.b64encode(key) === keyB64,
            };
        }""",
        [b64(key), edge_nonce, app_nonce, b64(der), fp_app],
    )
    t = f"peerwatch-auth-v1|{edge_nonce}|{app_nonce}|{fp_app}|{fp_edge}"
    p = f"peerwatch-pair-v1|{edge_nonce}|{app_nonce}|{fp_app}|{fp_edge}"
    k = hashlib.pbkdf2_hmac("sha256", b"042917", edge_nonce_raw, 200_000, 32)
    assert got["fpEdge"] == fp_edge
    assert got["t"] == t
    assert got["p"] == p
    assert base64.b64decode(got["authMac"]) == hmac.digest(key, t.encode(), "sha256")
    assert got["edgeMacOk"] is True
    assert base64.b64decode(got["k"]) == k
    assert base64.b64decode(got["pairMac"]) == hmac.digest(k, p.encode(), "sha256")
    assert got["nonceLen"] == 32
    assert got["keyRoundTrip"] is True


async def test_bad_macs_and_base64_are_refused(browser: Browser, src_server: str) -> None:
    page = await module_page(browser, src_server)
    key = os.urandom(32)
    good = base64.b64encode(hmac.digest(key, b"x|y", "sha256")).decode()
    bad = base64.b64encode(hmac.digest(key, b"x|z", "sha256")).decode()
    got = await page.evaluate(
        """async ([keyB64, good, bad]) => {
            const key = pw.b64decode(keyB64);
            const rejects = (s) => {
                try { pw.b64decode(s); return false; } catch { return true; }
            };
            return {
                good: await pw.macMatches(key, "x|y", good),
                bad: await pw.macMatches(key, "x|y", bad),
                garbage: await pw.macMatches(key, "x|y", "%%%not base64"),
                short: await pw.macMatches(key, "x|y", good.slice(0, 8)),
                urlsafe: rejects("ab-_"), unpadded: rejects("abc"), number: rejects(12),
            };
        }""",
        [base64.b64encode(key).decode(), good, bad],
    )
    assert got == {
        "good": True,
        "bad": False,
        "garbage": False,
        "short": False,
        "urlsafe": True,
        "unpadded": True,
        "number": True,
    }


async def test_own_certificate_fingerprint_is_the_one_in_the_sdp(
    browser: Browser, src_server: str
) -> None:
    """FP_app from getFingerprints() is what the edge reads from the OFFER's a=fingerprint."""
    page = await module_page(browser, src_server)
    got = await page.evaluate(
        """async () => {
            const cert = await RTCPeerConnection.generateCertificate(
                {name: "ECDSA", namedCurve: "P-256"});
            const pc = new RTCPeerConnection({certificates: [cert]});
            pc.createDataChannel("x");
            const offer = await pc.createOffer();
            pc.close();
            return {fp: pw.fingerprintOfCertificate(cert),
                    sdp: offer.sdp.match(/a=fingerprint:(\\S+ \\S+)/)[1]};
        }"""
    )
    algorithm, value = got["sdp"].split(" ")
    assert got["fp"] == f"{algorithm.lower()} {value.upper()}"
    assert got["fp"].startswith("sha-256 ")


def frame(request_id: int, payload: bytes) -> list[int]:
    return list(struct.pack(">I", request_id) + payload)


async def test_chunk_reassembly_interleaved(browser: Browser, src_server: str) -> None:
    page = await module_page(browser, src_server)
    bodies = {7: os.urandom(50_000), 8: os.urandom(16 * 1024), 4_000_000_000: os.urandom(3)}
    frames: list[list[int]] = []
    offsets = dict.fromkeys(bodies, 0)
    while any(offsets[i] < len(b) for i, b in bodies.items()):
        for i, body in bodies.items():
            if offsets[i] < len(body):
                frames.append(frame(i, body[offsets[i] : offsets[i] + 16 * 1024]))
                offsets[i] += 16 * 1024
    frames.insert(1, frame(99, b"for a cancelled request"))
    got = await page.evaluate(
        """async ([sizes, frames]) => {
            const r = new pw.Reassembler();
            for (const [id, size] of sizes) r.expect(id, size);
            const done = {};
            for (const f of frames) {
                const out = r.add(new Uint8Array(f).buffer);
                if (out) done[out.id] = Array.from(new Uint8Array(
                    await crypto.subtle.digest("SHA-256", out.body)));
            }
            return done;
        }""",
        [[[i, len(b)] for i, b in bodies.items()], frames],
    )
    assert {int(i): bytes(d) for i, d in got.items()} == {
        i: hashlib.sha256(b).digest() for i, b in bodies.items()
    }


async def test_chunk_reassembly_rejects_bad_frames(browser: Browser, src_server: str) -> None:
    page = await module_page(browser, src_server)
    got = await page.evaluate(
        """() => {
            const r = new pw.Reassembler();
            const err = (fn) => { try { fn(); return null; } catch (e) { return e.message; } };
            r.expect(1, 4);
            return {
                short: err(() => r.add(new Uint8Array([0, 0, 1]).buffer)),
                overflow: err(() => r.add(new Uint8Array([0, 0, 0, 1, 1, 2, 3, 4, 5]).buffer)),
                dropped: r.pending(1),
                badSize: err(() => r.expect(2, -1)),
                tooBig: err(() => r.expect(3, pw.MAX_BODY_BYTES + 1)),
            };
        }"""
    )
    assert "too short" in got["short"]
    assert "more bytes than announced" in got["overflow"]
    assert got["dropped"] is False
    assert "bad body size" in got["badSize"]
    assert "bad body size" in got["tooBig"]


async def test_rpc_many_in_flight_cancel_and_close(browser: Browser, src_server: str) -> None:
    """The RPC client against a scripted channel: out-of-order answers, errors, cancel, close."""
    page = await module_page(browser, src_server)
    got = await page.evaluate(
        """async () => {
            const sent = [];
            const rpc = new pw.RpcClient((text) => sent.push(JSON.parse(text)));
            const frame = (id, bytes) => {
                const b = new Uint8Array(4 + bytes.length);
                new DataView(b.buffer).setUint32(0, id);
                b.set(bytes, 4);
                return b.buffer;
            };
            const a = rpc.request("GET", "/api/v1/events?limit=2");
            const b = rpc.request("GET", "/api/v1/events/x/snapshot.jpg");
            const c = rpc.request("DELETE", "/api/v1/events/missing");
            const ctl = new AbortController();
            const d = rpc.request("GET", "/api/v1/cameras", null, {signal: ctl.signal});
            const e = rpc.request("GET", "/api/v1/info");
            const outside = await rpc.request("GET", "/etc/passwd").catch((err) => err.message);
            const ids = sent.map((m) => m.id);
            const body = new TextEncoder().encode('{"events":[],"next":null}');
            rpc.handleResponse({type: "response", id: ids[1], status: 200,
                                headers: {"content-type": "image/jpeg"}, size: 5});
            rpc.handleResponse({type: "response", id: ids[0], status: 200,
                                headers: {"content-type": "application/json"}, size: body.length});
            rpc.handleBinary(frame(ids[1], [1, 2]));
            rpc.handleBinary(frame(ids[0], body.slice(0, 10)));
            rpc.handleBinary(frame(ids[1], [3, 4, 5]));
            rpc.handleBinary(frame(ids[0], body.slice(10)));
            rpc.handleResponse({type: "response", id: ids[2], status: 404,
                                headers: {"content-type": "application/json"}, size: 0});
            ctl.abort();
            const [ra, rb, rc, rd] = await Promise.allSettled([a, b, c, d]);
            const inFlight = rpc.inFlight;
            rpc.close(new Error("channel closed"));
            const re = await e.catch((err) => err.message);
            const after = await rpc.request("GET", "/api/v1/info").catch((err) => err.message);
            return {
                ids, unique: new Set(ids).size === ids.length, outside,
                a: await ra.value.json(), aType: ra.value.headers.get("content-type"),
                b: Array.from(new Uint8Array(await rb.value.arrayBuffer())),
                c: rc.value.status, d: rd.reason.name,
                cancel: sent.find((m) => m.type === "cancel"),
                inFlight, re, after,
                methods: sent.filter((m) => m.type === "request").map((m) => m.method),
            };
        }"""
    )
    assert got["unique"] is True
    assert "not an API path" in got["outside"]
    assert got["a"] == {"events": [], "next": None}
    assert got["aType"] == "application/json"
    assert got["b"] == [1, 2, 3, 4, 5]
    assert got["c"] == 404
    assert got["d"] == "AbortError"
    assert got["cancel"] == {"type": "cancel", "id": got["ids"][3]}
    assert got["inFlight"] == 1
    assert got["re"] == "channel closed"
    assert got["after"] == "channel closed"
    assert got["methods"] == ["GET", "GET", "DELETE", "GET", "GET"]


async def test_rpc_queues_beyond_the_in_flight_limit(browser: Browser, src_server: str) -> None:
    """At most MAX_IN_FLIGHT requests are out (the edge refuses more than 32); the rest wait and
    go out as answers come back; an aborted waiting request is never sent."""
    page = await module_page(browser, src_server)
    got = await page.evaluate(
        """async () => {
            const sent = [];
            const rpc = new pw.RpcClient((text) => sent.push(JSON.parse(text)));
            const max = pw.MAX_IN_FLIGHT;
            const ctl = new AbortController();
            const all = [];
            for (let i = 0; i < max + 5; i++) {
                all.push(rpc.request("GET", `/api/v1/events/e${i}`,
                                     null, i === max + 1 ? {signal: ctl.signal} : {}));
            }
            const first = sent.length;
            ctl.abort();
            for (let n = 0; n < 10; n++) {
                const out = sent.filter((m) => m.type === "request");
                const open = out.find((m) => !m.answered);
                open.answered = true;
                rpc.handleResponse({type: "response", id: open.id, status: 204, size: 0});
            }
            const settled = await Promise.allSettled(all.slice(0, 10));
            const aborted = await all[max + 1].catch((e) => e.name);
            return {
                max, first, paths: sent.filter((m) => m.type === "request").map((m) => m.path),
                statuses: settled.map((s) => s.value.status), aborted, inFlight: rpc.inFlight,
            };
        }"""
    )
    max_in_flight = got["max"]
    assert 8 <= max_in_flight < 32
    assert got["first"] == max_in_flight
    expected = [f"/api/v1/events/e{i}" for i in range(max_in_flight + 5) if i != max_in_flight + 1]
    assert got["paths"] == expected
    assert got["statuses"] == [204] * 10
    assert got["aborted"] == "AbortError"
    assert got["inFlight"] == max_in_flight + 4 - 10
