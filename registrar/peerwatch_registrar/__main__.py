"""`python -m peerwatch_registrar`: run one registrar node until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal
import uuid

import uvloop
from aiohttp import web

from . import logs
from .app import create_app
from .config import Settings, parse_args
from .hub import Hub
from .redis_store import RedisStore
from .store import MemoryStore, Store

_LOGGER = logging.getLogger("peerwatch_registrar")


def make_store(settings: Settings, node: str) -> Store:
    """The in-memory store, or the Redis one when a URL is given."""
    if settings.redis_url is None:
        return MemoryStore(node)
    return RedisStore(node, settings.redis_url, settings.redis_ttl)


async def run(settings: Settings) -> None:
    """Serve until told to stop, then close every socket with 1001."""
    node = uuid.uuid4().hex[:12]
    hub = Hub(settings, make_store(settings, node))
    runner = web.AppRunner(create_app(settings, hub), access_log=None, shutdown_timeout=5)
    await runner.setup()
    http = runner.server
    assert http is not None
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: hub.connection(http),
        settings.host,
        settings.port,
        backlog=4096,
        reuse_port=settings.reuse_port,
    )
    _LOGGER.info(
        "listening",
        extra={
            "host": settings.host,
            "port": settings.port,
            "path": settings.path,
            "node": node,
            "store": "redis" if settings.redis_url else "memory",
        },
    )
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    _LOGGER.info("shutting down", extra={"sockets": hub.sockets})
    server.close()
    await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    logs.setup()
    asyncio.run(run(parse_args(argv)), loop_factory=uvloop.new_event_loop)


if __name__ == "__main__":
    main()
