"""Who may call the API: the bearer token (LAN / HA) or the Supervisor's ingress proxy."""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from .errors import json_error

_LOGGER = logging.getLogger(__name__)

TOKEN_FILE: Final = "api_token"  # noqa: S105 (a file name)
EDGE_ID_FILE: Final = "edge_id"
PUBLIC_PATHS: Final = frozenset({"/api/v1/health"})
QUERY_TOKEN_PATHS: Final = frozenset({"/api/v1/ws"})
INGRESS_PROXY: Final = ("172.30.32.2",)


def _read_or_create(path: Path, make: str) -> str:
    """Return the file's stripped text, creating it (mode 0600, exclusively) when absent."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        value = path.read_text(encoding="ascii").strip()
        if value:
            return value
        _LOGGER.warning("%s was empty; writing a new value", path)
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(make + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return make


def load_token(data_dir: Path) -> str:
    """The API bearer token, made on first start and kept in `data_dir/api_token` (0600)."""
    path = data_dir / TOKEN_FILE
    token = _read_or_create(path, secrets.token_urlsafe(32))
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    return token


def load_edge_id(data_dir: Path) -> str:
    """This edge's stable id, made on first start and kept in `data_dir/edge_id`."""
    return _read_or_create(data_dir / EDGE_ID_FILE, secrets.token_hex(16))


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if request.path in QUERY_TOKEN_PATHS:
        return request.query.get("token")
    return None


def token_middleware(token: str) -> Middleware:
    """Require `Authorization: Bearer <token>` on every route but the public ones."""
    expected = token.encode()

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path not in PUBLIC_PATHS:
            given = _bearer(request)
            if (
                given is None
                or not given.isascii()
                or not hmac.compare_digest(given.encode(), expected)
            ):
                message = "missing bearer token" if given is None else "invalid bearer token"
                return json_error(401, "unauthorized", message, **{"WWW-Authenticate": "Bearer"})
        return await handler(request)

    return middleware


def ingress_middleware(allowed: Iterable[str]) -> Middleware:
    """Serve only requests whose TCP peer is an allowed proxy (the Supervisor's ingress)."""
    networks = tuple(ipaddress.ip_network(item, strict=False) for item in allowed)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        try:
            address = ipaddress.ip_address(peer[0]) if peer else None
        except ValueError:
            address = None
        if address is None or not any(address in net for net in networks):
            _LOGGER.warning("ingress request from %s refused", peer[0] if peer else "unknown")
            return json_error(403, "forbidden", "only the Home Assistant ingress proxy may connect")
        return await handler(request)

    return middleware
