"""JSON errors: every failure reaches the client as `{"error", "message"}`, never a traceback."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

_LOGGER = logging.getLogger(__name__)

_REASONS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
    503: "unavailable",
}


class ApiError(Exception):
    """A client-visible error: HTTP status, a short machine code and a human message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def bad_request(message: str) -> ApiError:
    """A 400 naming what is wrong with the request."""
    return ApiError(400, "bad_request", message)


def not_found(what: str) -> ApiError:
    """A 404 for an unknown camera, event, device..."""
    return ApiError(404, "not_found", f"{what} not found")


def code_of(status: int) -> str:
    """The machine code of an HTTP error status, e.g. `bad_request`."""
    return _REASONS.get(status, "error")


def json_error(status: int, code: str, message: str, **headers: str) -> web.Response:
    """Build the JSON error response."""
    body: dict[str, Any] = {"error": code, "message": message}
    return web.json_response(body, status=status, headers=headers or None)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn `ApiError`, aiohttp HTTP errors and unexpected exceptions into JSON bodies."""
    try:
        return await handler(request)
    except ApiError as err:
        return json_error(err.status, err.code, err.message)
    except web.HTTPException as err:
        if err.status < 400:
            raise
        code = code_of(err.status)
        headers = {k: v for k, v in err.headers.items() if k in ("Allow", "Retry-After")}
        return json_error(err.status, code, err.reason, **headers)
    except (asyncio.CancelledError, ConnectionResetError):
        raise
    except Exception:
        _LOGGER.exception("error handling %s %s", request.method, request.path)
        return json_error(500, "internal_error", "internal error, see the edge log")
