"""PeerJS server wire format (npm `peer` 1.0.2): message types, errors, id rules, frame parsing."""

from __future__ import annotations

import re
from typing import NamedTuple

import orjson

OPEN = "OPEN"
ERROR = "ERROR"
ID_TAKEN = "ID-TAKEN"
HEARTBEAT = "HEARTBEAT"
OFFER = "OFFER"
ANSWER = "ANSWER"
CANDIDATE = "CANDIDATE"
LEAVE = "LEAVE"
EXPIRE = "EXPIRE"

RELAYED = frozenset({OFFER, ANSWER, CANDIDATE, LEAVE, EXPIRE})
NOT_QUEUED = frozenset({LEAVE, EXPIRE})

# Error strings of the reference server, kept verbatim: clients and tools match on them.
MSG_NO_PARAMS = "No id, token, or key supplied to websocket server"
MSG_INVALID_KEY = "Invalid key provided"
MSG_ID_TAKEN = "ID is taken"
MSG_LIMIT = "Server has reached its concurrent user limit"
MSG_INVALID_TOKEN = "Invalid token provided"  # noqa: S105
MSG_RATE = "Rate limit exceeded"
MSG_ADDRESS_SOCKETS = "Too many connections from your address"
MSG_ADDRESS_REGISTRATIONS = "Too many registrations from your address"

# The peerjs client's own id rule (lib/utils/validateId.ts).
_ID_RE = re.compile(r"[A-Za-z0-9]+(?:[ _-][A-Za-z0-9]+)*")
_TOKEN_RE = re.compile(r"[\x21-\x7e]+")


def valid_id(peer_id: str, max_length: int) -> bool:
    """Tell whether an id is one the peerjs client itself would accept, and not too long."""
    return 0 < len(peer_id) <= max_length and _ID_RE.fullmatch(peer_id) is not None


def valid_token(token: str, max_length: int) -> bool:
    """Tell whether a token is printable ASCII without spaces and not too long."""
    return 0 < len(token) <= max_length and _TOKEN_RE.fullmatch(token) is not None


class FrameError(Exception):
    """A refused client frame: `reason` labels the metric, the text goes to the client."""

    def __init__(self, reason: str, msg: str) -> None:
        super().__init__(msg)
        self.reason = reason
        self.msg = msg


class Message(NamedTuple):
    """One parsed client frame."""

    type: str
    dst: str | None
    payload: object


def parse_frame(text: str, max_id_length: int) -> Message:
    """Parse a client text frame; raise FrameError for anything the protocol does not allow."""
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise FrameError("bad_json", "Invalid JSON frame") from None
    if not isinstance(data, dict):
        raise FrameError("bad_json", "Frame must be a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str):
        raise FrameError("missing_type", "Frame has no string 'type'")
    if kind == HEARTBEAT:
        return Message(kind, None, None)
    if kind not in RELAYED:
        raise FrameError("unknown_type", f"Unknown message type: {kind[:32]}")
    dst = data.get("dst")
    if dst is None and kind == LEAVE:
        return Message(kind, None, None)
    if not isinstance(dst, str) or not valid_id(dst, max_id_length):
        raise FrameError("bad_dst", f"{kind} needs a valid 'dst' id")
    return Message(kind, dst, data.get("payload"))


def encode(kind: str, **fields: object) -> bytes:
    """Serialise a server message as compact JSON (UTF-8 bytes)."""
    return orjson.dumps({"type": kind, **fields})


def error(msg: str) -> bytes:
    """An ERROR message with the given text."""
    return encode(ERROR, payload={"msg": msg})


def relayed(kind: str, src: str, dst: str, payload: object) -> bytes:
    """The relayed form of a message: exactly {type, src, dst, payload}, src set by the server.

    A payload that parsed but cannot be encoded again (nested deeper than orjson's 254 levels)
    is refused as a bad frame.
    """
    try:
        if payload is None:
            return orjson.dumps({"type": kind, "src": src, "dst": dst})
        return orjson.dumps({"type": kind, "src": src, "dst": dst, "payload": payload})
    except orjson.JSONEncodeError:
        raise FrameError("too_deep", "Payload nested too deeply") from None
