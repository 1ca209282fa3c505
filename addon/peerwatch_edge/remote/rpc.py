"""Forward DataChannel requests to the edge's own local API on loopback.

The remote peer has no handlers of its own: every request goes to the same aiohttp routes the
LAN and Home Assistant use, with the edge's API token. Only `/api/v1/` paths are forwarded, with
one request header: `range` (a clip is fetched in ranged parts, 206 answers).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Final

import aiohttp
from yarl import URL

from ..api.errors import ApiError

METHODS: Final = frozenset({"GET", "POST", "PATCH", "DELETE"})
MAX_PATH: Final = 2048
CHUNK: Final = 16 * 1024
KEPT_HEADERS: Final = (
    "content-type",
    "cache-control",
    "content-range",
    "accept-ranges",
    "peerwatch-clip",
)
FORWARDED_HEADERS: Final = frozenset({"range"})
_RANGE = re.compile(r"^bytes=[0-9]{0,15}-[0-9]{0,15}$")
STREAMING_TYPES: Final = ("multipart/x-mixed-replace", "text/event-stream")
_PATH = re.compile(
    r"^/api/v1/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*(\?[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*)?$"
)


class RequestRefused(ApiError):
    """The request cannot be forwarded; `status` and `code` go back to the client."""

    def body(self) -> bytes:
        """The API's JSON error shape."""
        return json.dumps({"error": self.code, "message": self.message}).encode()


@dataclass(slots=True, frozen=True)
class Response:
    """A local API response about to be streamed: status, kept headers, size and body."""

    status: int
    headers: dict[str, str]
    size: int
    chunks: AsyncIterator[bytes]


def check_request(method: Any, path: Any) -> tuple[str, str]:  # noqa: ANN401
    """Return (method, path) when they may be forwarded, else raise `RequestRefused`."""
    if method not in METHODS:
        raise RequestRefused(405, "method_not_allowed", f"method must be one of {sorted(METHODS)}")
    if not isinstance(path, str) or len(path) > MAX_PATH or not _PATH.match(path):
        raise RequestRefused(400, "bad_request", "path: must be an /api/v1/ path")
    if any(segment in (".", "..") for segment in path.split("?", 1)[0].split("/")):
        raise RequestRefused(400, "bad_request", "path: no '.' or '..' segments")
    return method, path


def check_headers(headers: Any) -> dict[str, str]:  # noqa: ANN401
    """Return the request headers to forward (only `range`, one `bytes=a-b` range), else raise
    `RequestRefused`."""
    if headers is None:
        return {}
    if not isinstance(headers, dict) or not headers.keys() <= FORWARDED_HEADERS:
        raise RequestRefused(400, "bad_request", "headers: only 'range' may be sent")
    value = headers.get("range")
    if value is not None and (not isinstance(value, str) or not _RANGE.match(value)):
        raise RequestRefused(400, "bad_request", "headers: range must be one 'bytes=a-b' range")
    return {"Range": value} if value is not None else {}


class ApiClient:
    """An HTTP client of the local API with the edge's own bearer token."""

    def __init__(self, base_url: str, token: str, *, max_body: int = 32 * 1024 * 1024) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"}
        self._max_body = max_body
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Open the connection pool."""
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=None, connect=5, sock_read=30),
            connector=aiohttp.TCPConnector(limit=64),
            auto_decompress=False,
        )

    async def close(self) -> None:
        """Close the connection pool."""
        if self._session is not None:
            await self._session.close()

    @asynccontextmanager
    async def request(
        self,
        method: Any,  # noqa: ANN401
        path: Any,  # noqa: ANN401
        body: Any,  # noqa: ANN401
        headers: Any = None,  # noqa: ANN401
    ) -> AsyncIterator[Response]:
        """Forward one request; yield its status, headers, size and body chunks (≤ 16 KiB)."""
        method, path = check_request(method, path)
        forwarded = check_headers(headers)
        assert self._session is not None, "ApiClient.start() was not awaited"
        url = URL(self.base_url + path, encoded=True)
        kwargs: dict[str, Any] = {
            "headers": {**self._headers, **forwarded},
            "allow_redirects": False,
        }
        if body is not None:
            kwargs["json"] = body
        try:
            async with self._session.request(method, url, **kwargs) as resp:
                content_type = resp.headers.get("Content-Type", "")
                if content_type.startswith(STREAMING_TYPES):
                    raise RequestRefused(
                        400, "bad_request", "endless streams are not served over the DataChannel"
                    )
                headers = {k: resp.headers[k] for k in KEPT_HEADERS if k in resp.headers}
                if resp.content_length is not None:
                    if resp.content_length > self._max_body:
                        raise RequestRefused(502, "too_large", "the response is too large")
                    yield Response(resp.status, headers, resp.content_length, _chunks(resp))
                else:
                    data = await _read_capped(resp, self._max_body)
                    yield Response(resp.status, headers, len(data), _split(data))
        except (aiohttp.ClientError, TimeoutError) as err:
            raise RequestRefused(502, "api_unreachable", f"local API: {err}") from err


async def _chunks(resp: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    buffer = b""
    async for data in resp.content.iter_chunked(CHUNK):
        buffer += data
        while len(buffer) >= CHUNK:
            yield buffer[:CHUNK]
            buffer = buffer[CHUNK:]
    if buffer:
        yield buffer


async def _split(data: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(data), CHUNK):
        yield data[start : start + CHUNK]


async def _read_capped(resp: aiohttp.ClientResponse, cap: int) -> bytes:
    parts: list[bytes] = []
    size = 0
    async for data in resp.content.iter_chunked(CHUNK):
        size += len(data)
        if size > cap:
            raise RequestRefused(502, "too_large", "the response is too large")
        parts.append(data)
    return b"".join(parts)
