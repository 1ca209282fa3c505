"""A burst of registrations on a Redis-backed node: every socket gets OPEN, none an error."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

pytestmark = pytest.mark.slow

BURST = 300  # more concurrent registrations than a node has Redis connections


async def test_registration_burst_on_redis(registrar_factory, redis_url) -> None:
    reg = registrar_factory(
        "--redis-url", redis_url, "--ip-sockets", "1000", "--ip-registrations", "10000"
    )
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def first_frame(i: int) -> dict[str, object]:
            params = {"key": "peerjs", "id": f"burst{i}", "token": "t"}
            ws = await session.ws_connect(reg.ws_url, params=params)
            return json.loads((await ws.receive(30)).data)

        firsts = await asyncio.gather(*(first_frame(i) for i in range(BURST)))
    assert firsts == [{"type": "OPEN"}] * BURST
