"""The edge service: build the Edge, run it, log its events, stop cleanly on SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from .api import ApiOptions, ApiServer
from .bus import EventBus, Subscription
from .config import EdgeConfig
from .devices import DeviceRegistry
from .edge import Edge
from .remote import RemotePeer

_LOGGER = logging.getLogger(__name__)


async def log_messages(subscription: Subscription) -> None:
    """Log camera status and event starts and ends; event updates only at debug level."""
    async for message in subscription:
        if message["type"] == "camera.status":
            camera = message["camera"]
            state = "online" if camera["online"] else f"offline ({camera['error']})"
            _LOGGER.info("camera %s %s", camera["id"], state)
        else:
            event = message["event"]
            level = logging.DEBUG if message["type"] == "event.update" else logging.INFO
            _LOGGER.log(
                level,
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
    options = api_options or ApiOptions.from_env()
    devices = DeviceRegistry(config.data_dir)
    remote = (
        RemotePeer(config, name=options.name, devices=devices, bus=bus)
        if config.registrar is not None
        else None
    )
    api = ApiServer(edge, options, devices=devices, remote=remote)
    async with bus.subscribe() as subscription:
        logger = asyncio.create_task(log_messages(subscription))
        try:
            await edge.start()
            await api.start()
            if remote is not None:
                await remote.start()
            await stopping.wait()
            _LOGGER.info("stopping")
        finally:
            if remote is not None:
                await remote.stop()
            await api.stop()
            await edge.stop()
            logger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await logger
