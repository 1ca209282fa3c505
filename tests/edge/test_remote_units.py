"""Remote access building blocks without a network: files in data_dir, fingerprints, paths."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from aiortc import RTCPeerConnection

from peerwatch_edge.remote.certificate import (
    CERT_FILE,
    fingerprint_of,
    load_certificate,
    remote_fingerprint,
    use_certificate,
)
from peerwatch_edge.remote.rpc import RequestRefused, check_request
from peerwatch_edge.remote.session import pairing_key, transcript
from peerwatch_edge.remote.signaling import PEER_FILE, load_identity
from peerwatch_edge.remote.udp import enlarge_udp_buffers, ice_sockets


def test_identity_is_stable_and_recovers_from_a_bad_file(tmp_path: Path) -> None:
    first = load_identity(tmp_path, "ab" * 16)
    assert first.id == "pw-edge-" + "ab" * 16
    assert load_identity(tmp_path, "cd" * 16) == first  # kept, not re-derived
    assert (tmp_path / PEER_FILE).stat().st_mode & 0o777 == 0o600
    (tmp_path / PEER_FILE).write_text("{not json")
    fresh = load_identity(tmp_path, "cd" * 16)
    assert fresh.id == "pw-edge-" + "cd" * 16
    assert json.loads((tmp_path / PEER_FILE).read_text())["token"] == fresh.token


async def test_certificate_is_persistent_and_presented_in_the_sdp(tmp_path: Path) -> None:
    cert = load_certificate(tmp_path)
    again = load_certificate(tmp_path)
    assert fingerprint_of(again) == fingerprint_of(cert)
    assert (tmp_path / CERT_FILE).stat().st_mode & 0o777 == 0o600
    assert (cert.expires - cert._cert.not_valid_before_utc).days > 3000  # not aiortc's 30 days
    sha256 = next(f for f in cert.getFingerprints() if f.algorithm == "sha-256")
    assert fingerprint_of(cert) == f"sha-256 {sha256.value}"

    pc = RTCPeerConnection()
    use_certificate(pc, cert)
    pc.createDataChannel("peerwatch")
    await pc.setLocalDescription(await pc.createOffer())
    assert remote_fingerprint(pc.localDescription.sdp) == fingerprint_of(cert)
    await pc.close()

    (tmp_path / CERT_FILE).write_bytes(b"garbage")
    assert fingerprint_of(load_certificate(tmp_path)) != fingerprint_of(cert)


SDP_HEAD = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
APP = "m=application 9 DTLS/SCTP 5000\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n"


@pytest.mark.parametrize(
    "sdp",
    [
        SDP_HEAD,  # no DataChannel at all
        SDP_HEAD + APP,  # no fingerprint
        SDP_HEAD + APP + "a=fingerprint:sha-1 AA:BB\r\n",  # no sha-256
        SDP_HEAD + APP + "a=fingerprint:sha-256 AA:BB\r\na=fingerprint:sha-256 CC:DD\r\n",
    ],
)
def test_offers_without_one_sha256_fingerprint_are_refused(sdp: str) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        remote_fingerprint(sdp)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/events?limit=5&before=2026-01-01T00:00:00Z", None),
        ("DELETE", "/api/v1/devices/abc", None),
        ("PUT", "/api/v1/events", 405),
        (None, "/api/v1/events", 405),
        ("GET", "/api/v2/events", 400),
        ("GET", "/health", 400),
        ("GET", "http://evil/api/v1/events", 400),
        ("GET", "/api/v1/../../etc/passwd", 400),
        ("GET", "/api/v1/./events", 400),
        ("GET", "/api/v1/events#frag", 400),
        ("GET", "/api/v1/events\r\nX: y", 400),
        ("GET", "/api/v1/" + "a" * 3000, 400),
        ("GET", 42, 400),
    ],
)
def test_only_api_paths_are_forwarded(method: object, path: object, status: int | None) -> None:
    if status is None:
        assert check_request(method, path) == (method, path)
    else:
        with pytest.raises(RequestRefused) as err:
            check_request(method, path)
        assert err.value.status == status
        assert json.loads(err.value.body())["error"] == err.value.code


def test_protocol_strings_and_kdf_match_the_spec() -> None:
    fp = "sha-256 " + ":".join(["AB"] * 32)
    assert transcript("auth", "ZW==", "YQ==", fp, fp) == f"peerwatch-auth-v1|ZW==|YQ==|{fp}|{fp}"
    key = pairing_key("123456", b"\x01" * 32)
    assert len(key) == 32
    assert key != pairing_key("123457", b"\x01" * 32)


def rmem_max() -> int:
    return int(Path("/proc/sys/net/core/rmem_max").read_text())


async def test_ice_sockets_get_larger_buffers() -> None:
    cap = rmem_max()
    pc = RTCPeerConnection()
    try:
        assert enlarge_udp_buffers(pc) == 0  # nothing gathered yet: a no-op, not an error
        pc.createDataChannel("peerwatch")
        await pc.setLocalDescription(await pc.createOffer())
        sockets = ice_sockets(pc)
        assert sockets
        assert enlarge_udp_buffers(pc, 1024 * 1024) == len(sockets)
        for sock in sockets:  # Linux reports twice the granted size
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) == 2 * min(1024 * 1024, cap)
    finally:
        await pc.close()
