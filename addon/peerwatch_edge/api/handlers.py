"""REST handlers of `/api/v1`: info, cameras, events, devices, pairing, health, metrics."""

from __future__ import annotations

import asyncio
from contextlib import suppress
from typing import TYPE_CHECKING, Literal

from aiohttp import web

from .. import __version__
from .errors import ApiError, bad_request, not_found
from .metrics import render_metrics
from .params import cursor, event_query, json_body, only_keys, path_id, read_body
from .state import state_of

if TYPE_CHECKING:
    from ..edge import Edge

JPEG = "image/jpeg"
NO_STORE = {"Cache-Control": "no-store"}
SNAPSHOT_WAIT = 5.0  # seconds a reader waits for the snapshot of an event just started


async def health(_request: web.Request) -> web.Response:
    """Liveness for the Supervisor's watchdog; no auth, so no data."""
    return web.json_response({"status": "ok"})


async def info(request: web.Request) -> web.Response:
    """Who this edge is, what it has, and the ICE servers an app's live video needs.

    The TURN credentials are included as configured: like every route but health, /info is only
    served to authenticated callers (token, ingress proxy, a paired device's DataChannel).
    """
    state = state_of(request)
    return web.json_response(
        {
            "edge_id": state.edge_id,
            "name": state.name,
            "version": __version__,
            "peer_id": state.remote.peer_id if state.remote is not None else None,
            "registrar": state.registrar_status(),
            "cameras": [camera.status().to_dict() for camera in state.edge.cameras.values()],
            "ice_servers": list(state.edge.config.ice_servers),
        }
    )


async def list_cameras(request: web.Request) -> web.Response:
    """Every camera's status."""
    cameras = state_of(request).edge.cameras.values()
    return web.json_response({"cameras": [camera.status().to_dict() for camera in cameras]})


async def get_camera(request: web.Request) -> web.Response:
    """One camera's status."""
    return web.json_response(state_of(request).camera(path_id(request)).status().to_dict())


async def patch_camera(request: web.Request) -> web.Response:
    """Switch detection on or off: `{"detection_enabled": bool}`."""
    camera = state_of(request).camera(path_id(request))
    body = await json_body(request)
    only_keys(body, {"detection_enabled"})
    if not isinstance(body["detection_enabled"], bool):
        raise bad_request("detection_enabled: must be true or false")
    camera.detection_enabled = body["detection_enabled"]
    return web.json_response(camera.status().to_dict())


async def camera_snapshot(request: web.Request) -> web.Response:
    """The camera's newest frame as JPEG."""
    camera = state_of(request).camera(path_id(request))
    data = await asyncio.to_thread(camera.latest_jpeg)
    if data is None:
        raise ApiError(503, "no_frame", f"camera {camera.id!r} has no frame yet")
    return web.Response(body=data, content_type=JPEG, headers=NO_STORE)


async def list_events(request: web.Request) -> web.Response:
    """Events newest first; `next` is the `before` value of the following page (or null)."""
    query = event_query(request)
    events = await state_of(request).edge.store.list_events(
        camera=query.camera,
        label=query.label,
        kind=query.kind,
        before=query.before,
        before_id=query.before_id,
        limit=query.limit + 1,
    )
    page = events[: query.limit]
    more = len(events) > query.limit
    return web.json_response(
        {"events": [e.to_dict() for e in page], "next": cursor(page[-1]) if more else None}
    )


async def get_event(request: web.Request) -> web.Response:
    """One event."""
    event_id = path_id(request)
    event = await state_of(request).edge.store.get_event(event_id)
    if event is None:
        raise not_found(f"event {event_id!r}")
    return web.json_response(event.to_dict())


async def _settled(edge: Edge, event_id: str, *, clip: bool = False) -> None:
    """Wait, at most SNAPSHOT_WAIT, while a new event's snapshot is drawn (or its clip opened)."""
    with suppress(TimeoutError):
        async with asyncio.timeout(SNAPSHOT_WAIT):
            await edge.settled(event_id, clip=clip)


async def _event_file(
    request: web.Request, picture: Literal["snapshot", "thumbnail", "face"]
) -> web.FileResponse:
    edge = state_of(request).edge
    store = edge.store
    event_id = path_id(request)
    await _settled(edge, event_id)
    event = await store.get_event(event_id)
    if event is None:
        raise not_found(f"event {event_id!r}")
    if picture == "face":
        path, stored = store.face_path(event_id), event.face is not None and event.face.has_image
    else:
        path = (
            store.thumbnail_path(event_id)
            if picture == "thumbnail"
            else store.snapshot_path(event_id)
        )
        stored = event.has_snapshot
    if not stored or not await asyncio.to_thread(path.is_file):
        raise not_found(f"{picture} of event {event_id!r}")
    return web.FileResponse(path, headers={"Content-Type": JPEG, "Cache-Control": "max-age=60"})


async def event_snapshot(request: web.Request) -> web.FileResponse:
    """The event's best frame with its box drawn."""
    return await _event_file(request, "snapshot")


async def event_thumbnail(request: web.Request) -> web.FileResponse:
    """A small version of the snapshot."""
    return await _event_file(request, "thumbnail")


async def event_face(request: web.Request) -> web.FileResponse:
    """A crop of the best face seen on the event's person."""
    return await _event_file(request, "face")


async def event_clip(request: web.Request) -> web.FileResponse:
    """The event's clip (MP4; Range and HEAD work). While it is still being recorded this is
    the part so far, not to be cached: `Peerwatch-Clip: recording` says so."""
    edge = state_of(request).edge
    store = edge.store
    event_id = path_id(request)
    await _settled(edge, event_id, clip=True)
    event = await store.get_event(event_id)
    if event is None:
        raise not_found(f"event {event_id!r}")
    path = store.clip_path(event_id)
    if not event.has_clip or not await asyncio.to_thread(path.is_file):
        raise not_found(f"clip of event {event_id!r}")
    recording = event.clip_duration is None
    headers = {
        "Content-Type": "video/mp4",
        "Cache-Control": "no-store" if recording else "max-age=3600",
        "Peerwatch-Clip": "recording" if recording else "complete",
    }
    return web.FileResponse(path, headers=headers)


async def delete_event(request: web.Request) -> web.Response:
    """Delete an event and its pictures."""
    event_id = path_id(request)
    if not await state_of(request).edge.store.delete_event(event_id):
        raise not_found(f"event {event_id!r}")
    return web.Response(status=204)


async def list_devices(request: web.Request) -> web.Response:
    """Paired remote devices (never their keys)."""
    devices = state_of(request).devices.list()
    return web.json_response({"devices": [device.to_dict() for device in devices]})


async def rename_device(request: web.Request) -> web.Response:
    """Rename a paired device: `{"name": str}` (1 to 64 printable characters)."""
    device_id = path_id(request)
    body = await json_body(request)
    only_keys(body, {"name"})
    try:
        device = await state_of(request).devices.rename(device_id, body["name"])
    except ValueError as err:
        raise bad_request(f"name: {err}") from None
    if device is None:
        raise not_found(f"device {device_id!r}")
    return web.json_response(device.to_dict())


async def delete_device(request: web.Request) -> web.Response:
    """Revoke a paired device."""
    device_id = path_id(request)
    if not await state_of(request).devices.revoke(device_id):
        raise not_found(f"device {device_id!r}")
    return web.Response(status=204)


async def start_pairing(request: web.Request) -> web.Response:
    """Open a 5-minute pairing window; the code is also logged for add-on users."""
    if (await read_body(request)).strip() not in (b"", b"{}", b"null"):
        raise bad_request("body: POST /pairing takes no parameters")
    window = state_of(request).devices.start_pairing()
    return web.json_response(window.to_dict(), status=201)


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text exposition."""
    text = render_metrics(state_of(request))
    return web.Response(text=text, content_type="text/plain", headers={"Cache-Control": "no-store"})


def add_routes(app: web.Application) -> None:
    """Register the REST routes (live routes are added by `live.add_routes`)."""
    app.router.add_routes(
        [
            web.get("/api/v1/health", health),
            web.get("/api/v1/info", info),
            web.get("/api/v1/cameras", list_cameras),
            web.get("/api/v1/cameras/{id}", get_camera),
            web.patch("/api/v1/cameras/{id}", patch_camera),
            web.get("/api/v1/cameras/{id}/snapshot.jpg", camera_snapshot),
            web.get("/api/v1/events", list_events),
            web.get("/api/v1/events/{id}", get_event),
            web.delete("/api/v1/events/{id}", delete_event),
            web.get("/api/v1/events/{id}/snapshot.jpg", event_snapshot),
            web.get("/api/v1/events/{id}/thumbnail.jpg", event_thumbnail),
            web.get("/api/v1/events/{id}/face.jpg", event_face),
            web.get("/api/v1/events/{id}/clip.mp4", event_clip),
            web.get("/api/v1/devices", list_devices),
            web.patch("/api/v1/devices/{id}", rename_device),
            web.delete("/api/v1/devices/{id}", delete_device),
            web.post("/api/v1/pairing", start_pairing),
            web.get("/api/v1/metrics", metrics),
        ]
    )
