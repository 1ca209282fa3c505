"""Supervisor discovery: tell Home Assistant where the edge's API is, so it offers the integration.

`POST {supervisor}/discovery` with `Authorization: Bearer $SUPERVISOR_TOKEN` and
`{"service": "peerwatch", "config": {"host", "port", "token"}}`; retried with back-off while the
Supervisor is away, and never fatal to the edge.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Final

import aiohttp

_LOGGER = logging.getLogger(__name__)

SERVICE: Final = "peerwatch"
FIRST_DELAY: Final = 1.0
MAX_DELAY: Final = 60.0


async def _wait_for_api(session: aiohttp.ClientSession, port: int) -> None:
    """Wait until our own API answers its health check, so HA finds it up."""
    url = f"http://127.0.0.1:{port}/api/v1/health"
    while True:
        try:
            async with session.get(url) as resp:
                if resp.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.5)


async def announce(
    supervisor_url: str,
    supervisor_token: str,
    *,
    host: str,
    port: int,
    api_token: str,
    first_delay: float = FIRST_DELAY,
    max_delay: float = MAX_DELAY,
) -> str:
    """Post the discovery message until the Supervisor accepts it; return its uuid."""
    body = {"service": SERVICE, "config": {"host": host, "port": port, "token": api_token}}
    headers = {"Authorization": f"Bearer {supervisor_token}"}
    delay = first_delay
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        await _wait_for_api(session, port)
        while True:
            try:
                async with session.post(
                    f"{supervisor_url.rstrip('/')}/discovery", json=body, headers=headers
                ) as resp:
                    if resp.status == 200:
                        uuid = str((await resp.json())["data"]["uuid"])
                        _LOGGER.info("announced to Home Assistant (discovery %s)", uuid)
                        return uuid
                    problem = f"HTTP {resp.status}: {(await resp.text())[:200]}"
            except (aiohttp.ClientError, TimeoutError, ValueError, KeyError, TypeError) as err:
                problem = f"{type(err).__name__}: {err}"
            _LOGGER.warning("Supervisor discovery failed (%s); retrying in %.0f s", problem, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay)
