"""Live routes: MJPEG stream, WebSocket push and the WebRTC offer/answer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Final

from aiohttp import WSCloseCode, WSMsgType, web

from ..bus import Subscription
from .errors import ApiError, bad_request
from .params import json_body, only_keys, path_id
from .state import state_of

_LOGGER = logging.getLogger(__name__)

BOUNDARY: Final = "peerwatchframe"
MAX_MJPEG_FPS: Final = 15.0
DEFAULT_MJPEG_FPS: Final = 5.0
HEARTBEAT: Final = 20.0
MAX_SDP: Final = 32 * 1024
MAX_WS_CLIENTS: Final = 64


def _fps(request: web.Request, default: float) -> float:
    raw = request.query.get("fps")
    if raw is None:
        return min(default, MAX_MJPEG_FPS)
    try:
        fps = float(raw) if raw.isascii() else -1.0
    except ValueError:
        fps = -1.0
    if not 0.1 <= fps <= MAX_MJPEG_FPS:
        raise bad_request(f"fps: must be a number from 0.1 to {MAX_MJPEG_FPS:g}")
    return fps


async def mjpeg(request: web.Request) -> web.StreamResponse:
    """`multipart/x-mixed-replace` JPEG frames, at most `?fps=` per second; ends on disconnect."""
    camera = state_of(request).camera(path_id(request))
    unknown = set(request.query) - {"fps"}
    if unknown:
        raise bad_request(f"unknown parameter: {', '.join(sorted(unknown))}")
    interval = 1.0 / _fps(request, min(camera.config.fps, DEFAULT_MJPEG_FPS * 2))
    response = web.StreamResponse(
        headers={
            "Content-Type": f"multipart/x-mixed-replace; boundary={BOUNDARY}",
            "Cache-Control": "no-store",
        }
    )
    await response.prepare(request)
    sent = 0
    with contextlib.suppress(ConnectionResetError):
        async with camera.subscribe_frames() as feed:
            async for _frame in feed:
                began = time.monotonic()
                data = await asyncio.to_thread(camera.latest_jpeg)  # encoded once per frame
                if data is None:
                    continue
                head = (
                    f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                    f"Content-Length: {len(data)}\r\n\r\n"
                ).encode()
                await response.write(head + data + b"\r\n")
                sent += 1
                await asyncio.sleep(max(0.0, interval - (time.monotonic() - began)))
    _LOGGER.debug("MJPEG client of %s left after %d frames", camera.id, sent)
    return response


async def _forward(subscription: Subscription, ws: web.WebSocketResponse) -> None:
    async for message in subscription:
        await ws.send_json(message)


async def websocket(request: web.Request) -> web.WebSocketResponse:
    """Push `event.start|update|end` and `camera.status`; the first message is a `hello`."""
    state = state_of(request)
    if len(state.ws_clients) >= MAX_WS_CLIENTS:
        raise ApiError(429, "too_many_clients", f"at most {MAX_WS_CLIENTS} WebSocket clients")
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT, max_msg_size=4096)
    await ws.prepare(request)
    state.ws_clients.add(ws)
    try:
        async with state.edge.bus.subscribe() as subscription:
            cameras = [camera.status().to_dict() for camera in state.edge.cameras.values()]
            await ws.send_json({"type": "hello", "edge_id": state.edge_id, "cameras": cameras})
            pump = asyncio.create_task(_forward(subscription, ws), name="ws-forward")
            try:
                async for message in ws:
                    if message.type == WSMsgType.ERROR:
                        break
                    if message.type == WSMsgType.TEXT and message.data == "ping":
                        await ws.send_str("pong")
            finally:
                pump.cancel()
                with contextlib.suppress(asyncio.CancelledError, ConnectionResetError):
                    await pump
    finally:
        state.ws_clients.discard(ws)
    return ws


async def close_websockets(clients: set[web.WebSocketResponse]) -> None:
    """Close every WebSocket (on shutdown)."""
    await asyncio.gather(
        *(ws.close(code=WSCloseCode.GOING_AWAY, message=b"edge stopping") for ws in tuple(clients)),
        return_exceptions=True,
    )


async def webrtc_offer(request: web.Request) -> web.Response:
    """`{"sdp", "type": "offer"}` in, `{"sdp", "type": "answer"}` out (ICE gathered)."""
    state = state_of(request)
    camera = state.camera(path_id(request))
    body = await json_body(request)
    only_keys(body, {"sdp", "type"})
    sdp = body["sdp"]
    if body["type"] != "offer":
        raise bad_request("type: must be 'offer'")
    if not isinstance(sdp, str) or not sdp.startswith("v=0") or len(sdp) > MAX_SDP:
        raise bad_request("sdp: must be an SDP offer (text starting with v=0)")
    if "m=video" not in sdp:
        raise bad_request("sdp: the offer has no video media section")
    answer = await state.webrtc.answer(camera, sdp)
    return web.json_response({"sdp": answer.sdp, "type": answer.type})


def add_routes(app: web.Application) -> None:
    """Register the live routes."""
    app.router.add_routes(
        [
            web.get("/api/v1/cameras/{id}/stream.mjpeg", mjpeg),
            web.post("/api/v1/cameras/{id}/webrtc", webrtc_offer),
            web.get("/api/v1/ws", websocket),
        ]
    )
