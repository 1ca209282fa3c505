"""What every API handler shares, on both the token site and the ingress site."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from aiohttp import web

from ..devices import DeviceRegistry
from .errors import not_found

if TYPE_CHECKING:
    from ..camera import Camera
    from ..edge import Edge
    from .webrtc import WebRtcSessions


class RemoteStatus(Protocol):
    """What the remote-access peer tells `/info` (absent when remote access is off)."""

    @property
    def peer_id(self) -> str | None:
        """The edge's PeerJS id."""

    @property
    def registrar_status(self) -> str:
        """e.g. `connected`, `connecting`, `error`."""


@dataclass(slots=True, eq=False)
class ApiState:
    """The edge, the paired devices and the API's own live resources."""

    edge: Edge
    devices: DeviceRegistry
    token: str
    edge_id: str
    name: str
    webrtc: WebRtcSessions
    remote: RemoteStatus | None = None
    ws_clients: set[web.WebSocketResponse] = field(default_factory=set)
    started: float = field(default_factory=time.monotonic)

    def camera(self, camera_id: str) -> Camera:
        """A camera by id, or a 404."""
        camera = self.edge.cameras.get(camera_id)
        if camera is None:
            raise not_found(f"camera {camera_id!r}")
        return camera

    def registrar_status(self) -> str:
        """`disabled` without a registrar configured, else what the remote peer reports."""
        if self.edge.config.registrar is None:
            return "disabled"
        return self.remote.registrar_status if self.remote is not None else "not_started"


STATE = web.AppKey("peerwatch_api_state", ApiState)


def state_of(request: web.Request) -> ApiState:
    """The shared state of the app serving `request`."""
    return request.app[STATE]
