"""The edge's persistent DTLS certificate and the `sha-256 AB:CD:…` fingerprints of the protocol.

aiortc makes a fresh 30-day certificate per connection; a paired PWA pins the edge's
fingerprint, so the edge keeps one long-lived ECDSA P-256 certificate in `data_dir` instead
and gives it to each `RTCPeerConnection` (aiortc has no public option for that).
"""

from __future__ import annotations

import hashlib
import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from aiortc import RTCPeerConnection
from aiortc.rtcdtlstransport import RTCCertificate
from aiortc.sdp import SessionDescription
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

_LOGGER = logging.getLogger(__name__)

CERT_FILE: Final = "peer_cert.pem"
VALID_DAYS: Final = 3650
RENEW_BEFORE: Final = timedelta(days=30)
SDP_ERRORS: Final = (
    AssertionError,
    AttributeError,
    IndexError,
    KeyError,
    StopIteration,
    TypeError,
    ValueError,
)
"""What aiortc's SDP and candidate parsers raise on malformed text (they assert, not validate)."""


def fingerprint_of_der(der: bytes) -> str:
    """`sha-256 AB:CD:…` of a DER certificate (the SDP `a=fingerprint` form, uppercase)."""
    digest = hashlib.sha256(der).hexdigest().upper()
    return "sha-256 " + ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def fingerprint_of(certificate: RTCCertificate) -> str:
    """The protocol fingerprint of an aiortc certificate."""
    return fingerprint_of_der(certificate._cert.public_bytes(serialization.Encoding.DER))


def _generate() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "peerwatch-edge")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=VALID_DAYS))
        .sign(key, hashes.SHA256())
    )
    return key, cert


def load_certificate(data_dir: Path) -> RTCCertificate:
    """Load `data_dir/peer_cert.pem` (key + certificate), creating it (0600) when absent.

    An unreadable or nearly expired file is replaced (paired devices must then pair again,
    which the log says).
    """
    path = data_dir / CERT_FILE
    try:
        pem = path.read_bytes()
        key = serialization.load_pem_private_key(pem, password=None)
        cert = x509.load_pem_x509_certificate(pem)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            msg = "the key is not an ECDSA key"
            raise ValueError(msg)
        if cert.not_valid_after_utc - datetime.now(UTC) > RENEW_BEFORE:
            return RTCCertificate(key=key, cert=cert)
        _LOGGER.warning("%s expires soon; making a new one (pair devices again)", path)
    except FileNotFoundError:
        pass
    except ValueError as err:
        _LOGGER.error("%s is unreadable (%s); making a new one (pair devices again)", path, err)
    key, cert = _generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ) + cert.public_bytes(serialization.Encoding.PEM)
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)
    certificate = RTCCertificate(key=key, cert=cert)
    _LOGGER.info("new DTLS certificate %s", fingerprint_of(certificate))
    return certificate


def use_certificate(pc: RTCPeerConnection, certificate: RTCCertificate) -> None:
    """Make `pc` present `certificate` in DTLS (before any description is set)."""
    pc._RTCPeerConnection__certificates = [certificate]  # type: ignore[attr-defined]


def remote_fingerprint(sdp: str) -> str:
    """The peer's sha-256 fingerprint of the DataChannel section of an SDP, as aiortc checks it.

    aiortc requires every fingerprint of a supported algorithm to match the DTLS certificate, so
    the sha-256 one of the `m=application` section is what the peer really presents.
    Raises `ValueError` for malformed SDP, or one with no DataChannel or no single sha-256
    fingerprint.
    """
    try:
        description = SessionDescription.parse(sdp)
    except SDP_ERRORS:
        raise ValueError("the offer is not valid SDP") from None
    media = [m for m in description.media if m.kind == "application"]
    if len(media) != 1 or media[0].dtls is None:
        msg = "the offer must have exactly one DataChannel section with DTLS parameters"
        raise ValueError(msg)
    values = {f.value.upper() for f in media[0].dtls.fingerprints if f.algorithm == "sha-256"}
    if len(values) != 1:
        msg = "the offer must carry exactly one sha-256 fingerprint"
        raise ValueError(msg)
    return "sha-256 " + values.pop()
