"""The aiohttp application: PeerJS HTTP routes and WebSocket, rooms, health, metrics, static."""

from __future__ import annotations

import hmac
import logging
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from . import __version__
from . import protocol as p
from .config import Settings
from .hub import Hub, token_hash
from .rooms import client_ip, room_id

_LOGGER = logging.getLogger(__name__)

HUB: web.AppKey[Hub] = web.AppKey("hub", Hub)
SETTINGS: web.AppKey[Settings] = web.AppKey("settings", Settings)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_INFO = {
    "name": "PeerJS Server",
    "description": "A server side element to broker connections between PeerJS clients.",
    "website": "https://peerjs.com/",
}


def _cors(resp: web.StreamResponse, request: web.Request) -> None:
    resp.headers["Access-Control-Allow-Origin"] = "*"
    resp.headers["Vary"] = "Origin"
    if request.method == "OPTIONS":
        resp.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        wanted = request.headers.get("Access-Control-Request-Headers")
        if wanted:
            resp.headers["Access-Control-Allow-Headers"] = wanted
        resp.headers["Access-Control-Max-Age"] = "600"


@web.middleware
async def _middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """CORS on every HTTP answer, preflights answered here; access log without tokens.

    Every answer closes its connection: WebSocket upgrades are read by ws.py, which only sees
    the first request of a connection.
    """
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        resp: web.StreamResponse = web.Response(status=204)
    else:
        try:
            resp = await handler(request)
        except web.HTTPException as err:
            resp = err
    if not resp.prepared:
        _cors(resp, request)
        resp.force_close()  # the next request may be a WebSocket upgrade: on a new connection
    route = request.match_info.route.resource
    _LOGGER.debug(
        "http",
        extra={
            "method": request.method,
            "route": route.canonical if route is not None else None,
            "status": resp.status,
        },
    )
    if isinstance(resp, web.HTTPException):
        raise resp
    return resp


def _ip(request: web.Request) -> str:
    return client_ip(
        request.remote,
        request.headers.getall("X-Forwarded-For", []),
        request.app[SETTINGS].trusted_proxies,
    )


def _unauthorized(text: str) -> web.HTTPUnauthorized:
    return web.HTTPUnauthorized(text=text)


async def info(request: web.Request) -> web.Response:
    """`GET {path}`: the reference server's self-description."""
    return web.json_response(_INFO)


async def new_id(request: web.Request) -> web.Response:
    """`GET {path}{key}/id`: a fresh UUID nobody holds, as text/html like the reference."""
    store = request.app[HUB].store
    while True:
        candidate = str(uuid.uuid4())
        if await store.lookup(candidate) is None:
            return web.Response(text=candidate, content_type="text/html")


async def peers(request: web.Request) -> web.Response:
    """`GET {path}{key}/peers`: registered ids, only when discovery is allowed."""
    if not request.app[SETTINGS].allow_discovery:
        raise web.HTTPUnauthorized(text="Unauthorized")
    return web.json_response(await request.app[HUB].store.ids())


async def websocket(request: web.Request) -> web.StreamResponse:
    """`{path}peerjs` without a WebSocket upgrade (upgrades never reach aiohttp: see ws.py)."""
    raise web.HTTPBadRequest(text="WebSocket upgrade expected")


async def _room_caller(request: web.Request) -> tuple[str, str]:
    """Authenticate a room call (connected id + its token); return (id, the caller's room).

    An unknown id and a wrong token get the same answer: the route tells nothing about ids.
    """
    settings, hub = request.app[SETTINGS], request.app[HUB]
    m = request.match_info
    if m["key"] != settings.key:
        raise _unauthorized(p.MSG_INVALID_KEY)
    reg = await hub.store.lookup(m["id"])
    given = token_hash(m["token"])
    if not hmac.compare_digest(reg.token_hash if reg else "", given) or reg is None:
        raise _unauthorized("Unauthorized")
    return m["id"], room_id(settings.room_secret, _ip(request))


async def _own_room(request: web.Request) -> tuple[str, str]:
    peer_id, room = await _room_caller(request)
    if not hmac.compare_digest(request.match_info["room"], room):
        raise web.HTTPForbidden(text="Not the room of your network")
    return peer_id, room


async def room_id_route(request: web.Request) -> web.Response:
    """`GET …/room/id`: the room of the caller's public IP."""
    _peer, room = await _room_caller(request)
    return web.json_response({"roomId": room})


async def room_join(request: web.Request) -> web.Response:
    """`POST …/room/{room}/join`: join; answer the members after joining."""
    peer_id, room = await _own_room(request)
    members = await request.app[HUB].store.join(room, peer_id)
    _LOGGER.info("room join", extra={"peer": peer_id, "members": len(members)})
    return web.json_response({"clientsIds": members})


async def room_leave(request: web.Request) -> web.Response:
    """`POST …/room/{room}/leave`: leave; tell whether the caller was a member."""
    peer_id, room = await _own_room(request)
    return web.json_response({"wasInRoom": await request.app[HUB].store.leave(room, peer_id)})


async def room_members(request: web.Request) -> web.Response:
    """`GET …/room/{room}/members`: the members, as a bare array like PnP."""
    _peer, room = await _own_room(request)
    return web.json_response(await request.app[HUB].store.members(room))


async def health(request: web.Request) -> web.Response:
    """`GET /health`: 200 while this node and its store serve, else 503."""
    hub = request.app[HUB]
    ok = hub.store.healthy
    body = {
        "status": "ok" if ok else "degraded",
        "version": __version__,
        "node": hub.store.node,
        "store": "redis" if request.app[SETTINGS].redis_url else "memory",
        "sockets": hub.sockets,
        "peers": len(hub.clients),
    }
    return web.json_response(body, status=200 if ok else 503)


async def metrics(request: web.Request) -> web.Response:
    """`GET /metrics`: Prometheus text."""
    hub = request.app[HUB]
    text = hub.metrics.render(await hub.gauges())
    return web.Response(text=text, content_type="text/plain", charset="utf-8")


def _static_handler(root: Path) -> Handler:
    root = root.resolve()

    async def static(request: web.Request) -> web.StreamResponse:
        """Files of the static directory; index.html for `/` and for folders."""
        target = (root / request.match_info["tail"]).resolve()
        if not target.is_relative_to(root):
            raise web.HTTPNotFound
        if target.is_dir():
            target /= "index.html"
        if not target.is_file():
            raise web.HTTPNotFound
        return web.FileResponse(target)

    return static


def create_app(settings: Settings, hub: Hub) -> web.Application:
    """Build the application; the hub is started and stopped with it."""
    app = web.Application(middlewares=[_middleware], client_max_size=64 * 1024)
    app[HUB] = hub
    app[SETTINGS] = settings
    base, key = settings.path, settings.key
    room = base + "{key}/{id}/{token}/room"
    app.router.add_get("/health", health)
    app.router.add_get("/metrics", metrics)
    app.router.add_get(base + "peerjs", websocket)
    app.router.add_get(f"{base}{key}/id", new_id)
    app.router.add_get(f"{base}{key}/peers", peers)
    app.router.add_get(room + "/id", room_id_route)
    app.router.add_post(room + "/{room}/join", room_join)
    app.router.add_post(room + "/{room}/leave", room_leave)
    app.router.add_get(room + "/{room}/members", room_members)
    if settings.static_dir is None or base != "/":
        app.router.add_get(base, info)
    if settings.static_dir is not None:
        app.router.add_get("/{tail:.*}", _static_handler(settings.static_dir))

    async def on_startup(_app: web.Application) -> None:
        await hub.start()

    async def on_shutdown(_app: web.Application) -> None:
        await hub.shutdown()

    app.on_startup.append(on_startup)
    app.on_shutdown.append(on_shutdown)
    return app
