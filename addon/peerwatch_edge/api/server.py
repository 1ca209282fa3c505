"""The API server: the token-protected site (LAN, HA) and the optional ingress site (HA panel)."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final

from aiohttp import web
from aiohttp.typedefs import Middleware

from ..devices import DeviceRegistry
from . import handlers, ingress, live
from .auth import INGRESS_PROXY, ingress_middleware, load_edge_id, load_token, token_middleware
from .connections import GuardedSite
from .errors import error_middleware
from .params import DEFAULT_READ_TIMEOUT, READ_TIMEOUT, ascii_int
from .state import STATE, ApiState, RemoteStatus
from .webrtc import WebRtcSessions

if TYPE_CHECKING:
    from ..edge import Edge

_LOGGER = logging.getLogger(__name__)

MAX_BODY: Final = 64 * 1024
DEFAULT_PWA_DIR: Final = Path(__file__).resolve().parents[3] / "pwa" / "dist"


@dataclass(slots=True, frozen=True)
class ApiOptions:
    """API settings that are not part of the edge config (the add-on sets them by environment).

    `PEERWATCH_NAME`, `PEERWATCH_INGRESS_PORT` (ingress off when unset), `PEERWATCH_INGRESS_HOST`,
    `PEERWATCH_INGRESS_ALLOW` (comma-separated addresses/networks), `PEERWATCH_PWA_DIR`,
    `PEERWATCH_READ_TIMEOUT` (seconds a client has for a request's headers, and for its body).
    """

    name: str = field(default_factory=lambda: f"Peerwatch ({socket.gethostname()})")
    ingress_port: int | None = None
    ingress_host: str = "0.0.0.0"  # noqa: S104
    ingress_allow: tuple[str, ...] = INGRESS_PROXY
    pwa_dir: Path = DEFAULT_PWA_DIR
    read_timeout: float = DEFAULT_READ_TIMEOUT

    @classmethod
    def from_env(cls) -> ApiOptions:
        """Read the options from the environment (ValueError naming a bad variable)."""
        env = os.environ
        options = cls()
        port = env.get("PEERWATCH_INGRESS_PORT")
        port_number = ascii_int(port) if port is not None else None
        if port is not None and (port_number is None or not 1 <= port_number <= 65535):
            msg = f"PEERWATCH_INGRESS_PORT: not a port number: {port!r}"
            raise ValueError(msg)
        timeout = env.get("PEERWATCH_READ_TIMEOUT")
        try:
            read_timeout = float(timeout) if timeout else options.read_timeout
        except ValueError:
            read_timeout = -1.0
        if not 0 < read_timeout < 3600:
            msg = f"PEERWATCH_READ_TIMEOUT: not a number of seconds: {timeout!r}"
            raise ValueError(msg)
        allow = tuple(a.strip() for a in env.get("PEERWATCH_INGRESS_ALLOW", "").split(",") if a)
        return cls(
            name=env.get("PEERWATCH_NAME") or options.name,
            ingress_port=port_number,
            ingress_host=env.get("PEERWATCH_INGRESS_HOST") or options.ingress_host,
            ingress_allow=allow or options.ingress_allow,
            pwa_dir=Path(env["PEERWATCH_PWA_DIR"])
            if env.get("PEERWATCH_PWA_DIR")
            else DEFAULT_PWA_DIR,
            read_timeout=read_timeout,
        )


def build_app(
    state: ApiState,
    access: Sequence[Middleware],
    pwa_dir: Path | None = None,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
) -> web.Application:
    """An aiohttp app with every `/api/v1` route; `access` decides who may call it."""
    app = web.Application(middlewares=[error_middleware, *access], client_max_size=MAX_BODY)
    app[STATE] = state
    app[READ_TIMEOUT] = read_timeout
    handlers.add_routes(app)
    live.add_routes(app)
    if pwa_dir is not None:
        ingress.add_routes(app, pwa_dir)
    return app


class ApiServer:
    """Serves the local API for an `Edge`; `start()` after the edge, `stop()` before it."""

    def __init__(
        self,
        edge: Edge,
        options: ApiOptions | None = None,
        *,
        devices: DeviceRegistry | None = None,
        remote: RemoteStatus | None = None,
    ) -> None:
        self.options = options or ApiOptions()
        config = edge.config
        self.state = ApiState(
            edge=edge,
            devices=devices or DeviceRegistry(config.data_dir),
            token=load_token(config.data_dir),
            edge_id=load_edge_id(config.data_dir),
            name=self.options.name,
            webrtc=WebRtcSessions(config.ice_servers),
            remote=remote,
        )
        self._runners: list[web.AppRunner] = []

    @property
    def token(self) -> str:
        """The bearer token (handed to HA by Supervisor discovery)."""
        return self.state.token

    async def start(self) -> None:
        """Listen on the API port and, when configured, on the ingress port."""
        api = self.state.edge.config.api
        opts = self.options
        app = build_app(self.state, [token_middleware(self.state.token)], None, opts.read_timeout)
        await self._serve(app, api.host, api.port)
        _LOGGER.info("local API on http://%s:%d/api/v1", api.host, api.port)
        if opts.ingress_port is not None:
            access = [ingress_middleware(opts.ingress_allow)]
            panel = build_app(self.state, access, opts.pwa_dir, opts.read_timeout)
            await self._serve(panel, opts.ingress_host, opts.ingress_port)
            _LOGGER.info("ingress panel on port %d (from %s)", opts.ingress_port, opts.pwa_dir)

    async def _serve(self, app: web.Application, host: str, port: int) -> None:
        runner = web.AppRunner(app, shutdown_timeout=2.0)
        await runner.setup()
        self._runners.append(runner)
        await GuardedSite(runner, host, port, self.options.read_timeout).start()

    async def stop(self) -> None:
        """Close live sessions and WebSockets, then stop listening."""
        await self.state.webrtc.close_all()
        await live.close_websockets(self.state.ws_clients)
        for runner in reversed(self._runners):
            await runner.cleanup()
        self._runners.clear()
