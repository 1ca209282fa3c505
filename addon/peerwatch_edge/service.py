"""The edge service: build the Edge, run it, log its events, stop cleanly on SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from .api import ApiOptions, ApiServer
from .bus import EventBus, Subscription
from .config import EdgeConfig
from .edge import Edge

_LOGGER = logging.getLogger(__name__)


async def log_messages(subscription: Subscription) -> None:
    """Log every event and camera status message."""
    async for message in subscription:
        if message["type"] == "camera.status":
            camera = message["camera"]
            state = "online" if camera["online"] else f"offline ({camera['error']})"
            _LOGGER.info("camera %s %s", camera["id"], state)
        else:
            event = message["event"]
            _LOGGER.info(
                "%s %s %s %s score %.2f zones %s",
                message["type"],
                event["camera"],
                event["label"],
                event["id"],
                event["score"],
                ",".join(event["zones"]) or "-",
            )


async def run(config: EdgeConfig, api_options: ApiOptions | None = None) -> None:
    """Run the edge and its local API until SIGTERM or SIGINT."""
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    bus = EventBus(loop)
    edge = Edge(config, bus)
    api = ApiServer(edge, api_options or ApiOptions.from_env())
    async with bus.subscribe() as subscription:
        logger = asyncio.create_task(log_messages(subscription))
        try:
            await edge.start()
            await api.start()
            await stopping.wait()
            _LOGGER.info("stopping")
        finally:
            await api.stop()
            await edge.stop()
            logger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await logger
