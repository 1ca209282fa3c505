"""Camera: latest frame, native WebRTC live view through the edge, MJPEG as the fallback."""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web
from homeassistant.components.camera import (
    Camera,
    CameraEntityDescription,
    CameraEntityFeature,
)
from homeassistant.components.camera.webrtc import WebRTCAnswer, WebRTCError, WebRTCSendMessage
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_aiohttp_proxy_web
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from webrtc_models import RTCIceCandidateInit

from .api import PeerwatchError
from .const import LOGGER
from .coordinator import PeerwatchConfigEntry, PeerwatchCoordinator
from .entity import PeerwatchEntity, async_add_camera_entities

PARALLEL_UPDATES = 0

CAMERA = CameraEntityDescription(key="camera", name=None)


class PeerwatchCamera(PeerwatchEntity, Camera):
    """One of the edge's cameras."""

    _attr_supported_features = CameraEntityFeature.STREAM
    _attr_brand = "Peerwatch"

    def __init__(self, coordinator: PeerwatchCoordinator, camera: str) -> None:
        """Initialise both the coordinator entity and the camera."""
        super().__init__(coordinator, CAMERA, camera)
        Camera.__init__(self)

    @property
    def available(self) -> bool:
        """Available while the edge answers and the camera delivers frames."""
        return super().available and bool(self.camera and self.camera.online)

    @property
    def motion_detection_enabled(self) -> bool:
        """Whether the edge analyses this camera."""
        return bool(self.camera and self.camera.detection_enabled)

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        """Return the camera's latest frame from the edge."""
        try:
            return await self.coordinator.client.camera_snapshot(str(self.camera_id))
        except PeerwatchError as err:
            raise self.edge_error(err) from err

    async def async_handle_async_webrtc_offer(
        self, offer_sdp: str, session_id: str, send_message: WebRTCSendMessage
    ) -> None:
        """Forward the browser's offer to the edge's aiortc peer and send back its answer."""
        try:
            answer = await self.coordinator.client.webrtc_offer(str(self.camera_id), offer_sdp)
        except PeerwatchError as err:
            LOGGER.debug("WebRTC offer for %s failed: %s", self.entity_id, err)
            send_message(WebRTCError("webrtc_offer_failed", str(err)))
            return
        send_message(WebRTCAnswer(answer))

    async def async_on_webrtc_candidate(
        self, session_id: str, candidate: RTCIceCandidateInit
    ) -> None:
        """Ignore trickled candidates from the browser.

        The edge's route takes one offer and returns one answer: aiortc gathers all its
        candidates before answering and finds the browser's from its connectivity checks
        (peer-reflexive), so late candidates have nowhere to go; they are dropped on purpose.
        """
        LOGGER.debug("Ignoring a late ICE candidate for %s: %s", self.entity_id, candidate)

    async def handle_async_mjpeg_stream(self, request: web.Request) -> web.StreamResponse | None:
        """Proxy the edge's MJPEG stream (the fallback when WebRTC does not connect)."""
        try:
            return await async_aiohttp_proxy_web(
                self.hass, request, self.coordinator.client.mjpeg_stream(str(self.camera_id))
            )
        except PeerwatchError as err:
            raise self.edge_error(err) from err


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PeerwatchConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a camera entity per camera."""

    def build(coordinator: PeerwatchCoordinator, cam: str) -> Iterable[PeerwatchCamera]:
        yield PeerwatchCamera(coordinator, cam)

    async_add_camera_entities(entry, async_add_entities, build)
