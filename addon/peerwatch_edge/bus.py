"""In-process event bus: the pipeline publishes, the API and the WebRTC peer subscribe."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Final, Literal

from .model import CameraStatus, Event

_LOGGER = logging.getLogger(__name__)

type MessageType = Literal["event.start", "event.update", "event.end", "camera.status"]
type Message = dict[str, Any]
"""`{"type": MessageType, "event": {...}}` or `{"type": "camera.status", "camera": {...}}`."""

QUEUE_SIZE: Final = 256


class Subscription:
    """A subscriber's bounded queue; one too slow to keep up loses the oldest messages."""

    def __init__(self, size: int = QUEUE_SIZE) -> None:
        self._queue: asyncio.Queue[Message] = asyncio.Queue(size)

    def put(self, message: Message) -> None:
        """Queue a message, dropping the oldest one when full."""
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(message)

    async def get(self) -> Message:
        """Wait for the next message."""
        return await self._queue.get()

    def __aiter__(self) -> AsyncIterator[Message]:
        return self

    async def __anext__(self) -> Message:
        return await self._queue.get()


class EventBus:
    """Fan-out of event and camera status messages to subscribers on one event loop.

    `publish_*` may be called from any thread; delivery happens on the bus's loop.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop
        self._subscriptions: set[Subscription] = set()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Deliver on `loop` (the loop the API and the peer run on)."""
        self._loop = loop

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[Subscription]:
        """Receive every message published while the context is open."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        subscription = Subscription()
        self._subscriptions.add(subscription)
        try:
            yield subscription
        finally:
            self._subscriptions.discard(subscription)

    def publish_event(self, kind: Literal["start", "update", "end"], event: Event) -> None:
        """Publish `event.start`, `event.update` or `event.end`."""
        self._publish({"type": f"event.{kind}", "event": event.to_dict()})

    def publish_camera(self, status: CameraStatus) -> None:
        """Publish a `camera.status` message."""
        self._publish({"type": "camera.status", "camera": status.to_dict()})

    def _publish(self, message: Message) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._deliver(message)
        else:
            loop.call_soon_threadsafe(self._deliver, message)

    def _deliver(self, message: Message) -> None:
        for subscription in tuple(self._subscriptions):
            subscription.put(message)
        _LOGGER.debug("published %s to %d subscribers", message["type"], len(self._subscriptions))
