"""Parse and validate request parameters; anything wrong becomes a 400 naming the parameter."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from aiohttp import web

from ..model import Event, Kind, iso
from .errors import ApiError, bad_request

ID_RE: Final = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
LABEL_RE: Final = re.compile(r"^[a-z0-9][a-z0-9 _-]{0,63}$")
MAX_LIMIT: Final = 200
DEFAULT_LIMIT: Final = 50
DEFAULT_READ_TIMEOUT: Final = 10.0
READ_TIMEOUT: Final = web.AppKey("peerwatch_read_timeout", float)


@dataclass(slots=True, frozen=True)
class EventQuery:
    """A validated `GET /events` query."""

    camera: str | None
    label: str | None
    kind: str | None
    before: datetime | None
    before_id: str | None
    limit: int


def path_id(request: web.Request, name: str = "id") -> str:
    """A path id (camera, event, device): letters, digits, '_' or '-', at most 64."""
    value = request.match_info[name]
    if not ID_RE.match(value):
        raise bad_request(f"{name}: must be 1 to 64 letters, digits, '_' or '-'")
    return value


def ascii_int(value: str) -> int | None:
    """The value of a plain ASCII decimal such as `42`, else None (`str.isdigit` also takes '²')."""
    return int(value) if value.isascii() and value.isdigit() else None


def parse_time(value: str, name: str) -> datetime:
    """An ISO-8601 time; naive times are taken as UTC."""
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise bad_request(f"{name}: not an ISO-8601 time or a paging cursor") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def cursor(event: Event) -> str:
    """The paging cursor after `event`: `<started_at>,<id>`."""
    return f"{iso(event.started_at)},{event.id}"


def event_query(request: web.Request) -> EventQuery:
    """Validate `camera`, `label`, `kind`, `before` (time or cursor) and `limit`."""
    query = request.query
    unknown = set(query) - {"camera", "label", "kind", "before", "limit"}
    if unknown:
        raise bad_request(f"unknown parameter: {', '.join(sorted(unknown))}")
    camera = query.get("camera")
    if camera is not None and not ID_RE.match(camera):
        raise bad_request("camera: must be a camera id")
    label = query.get("label")
    if label is not None and not LABEL_RE.match(label):
        raise bad_request("label: must be a lowercase label such as 'person'")
    kind = query.get("kind")
    if kind is not None and kind not in {str(k) for k in Kind}:
        raise bad_request(f"kind: must be one of {', '.join(str(k) for k in Kind)}")
    before = before_id = None
    if (raw := query.get("before")) is not None:
        time_text, _, before_id = raw.partition(",")
        if before_id and not ID_RE.match(before_id):
            raise bad_request("before: the cursor's event id is invalid")
        before = parse_time(time_text, "before")
        before_id = before_id or None
    limit = DEFAULT_LIMIT
    if (raw := query.get("limit")) is not None:
        value = ascii_int(raw)
        if value is None or not 1 <= value <= MAX_LIMIT:
            raise bad_request(f"limit: must be an integer from 1 to {MAX_LIMIT}")
        limit = value
    return EventQuery(camera, label, kind, before, before_id, limit)


async def read_body(request: web.Request) -> bytes:
    """The request's body, which must arrive within the app's read timeout (else a 408)."""
    try:
        async with asyncio.timeout(request.app.get(READ_TIMEOUT, DEFAULT_READ_TIMEOUT)):
            return await request.read()
    except TimeoutError:
        raise ApiError(408, "request_timeout", "the request body did not arrive in time") from None


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object body."""
    if request.content_type != "application/json":
        raise ApiError(415, "unsupported_media_type", "send a JSON body (application/json)")
    data = await read_body(request)
    try:
        body = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise bad_request("body: not valid JSON") from None
    except RecursionError:
        raise bad_request("body: JSON nested too deeply") from None
    if not isinstance(body, dict):
        raise bad_request("body: must be a JSON object")
    return body


def only_keys(
    body: dict[str, Any], required: AbstractSet[str], optional: AbstractSet[str] = frozenset()
) -> None:
    """Refuse missing and unknown keys."""
    if missing := required - body.keys():
        raise bad_request(f"body: missing {', '.join(sorted(missing))}")
    if unknown := body.keys() - required - optional:
        raise bad_request(f"body: unknown key {', '.join(sorted(unknown))}")
