"""A stranger attacks the edge's remote peer through a real registrar: offers aiortc cannot use,
and many valid offers (from many PeerJS ids) that never connect. A paired app, a real aiortc
client, must still connect and be served.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from typing import Any

import aiohttp
import pytest
from aiortc import RTCPeerConnection

from peerwatch_edge.remote.peer import MAX_CONNECTIONS, MAX_PER_SOURCE
from tests.edge.remote_client import Refused, RegistrarClient, linked
from tests.edge.remote_stack import Stack, paired_link

pytestmark = pytest.mark.slow

STRANGERS = 6
HAMMER_INTERVAL = 0.5  # seconds between two offers of the stranger while the app connects


@pytest.fixture
async def device(stack: Stack, registrar: RegistrarClient) -> tuple[str, bytes]:
    """A device paired over a link that is closed again."""
    async with aiohttp.ClientSession(stack.edge.url, headers=stack.edge.auth) as http:
        link = await paired_link(http, registrar, stack.peer_id)
    await link.close()
    assert link.device is not None
    return link.device


def data_offer(sdp: str) -> dict[str, Any]:
    """An OFFER payload as npm peerjs sends it, with `sdp` as the SDP text."""
    return {
        "sdp": {"type": "offer", "sdp": sdp},
        "type": "data",
        "connectionId": f"dc_{secrets.token_hex(8)}",
        "label": "peerwatch",
        "reliable": True,
        "serialization": "raw",
    }


async def datachannel_offer_sdp() -> str:
    """A real aiortc DataChannel offer (its peer connection is closed at once)."""
    pc = RTCPeerConnection()
    pc.createDataChannel("peerwatch")
    await pc.setLocalDescription(await pc.createOffer())
    sdp = str(pc.localDescription.sdp)
    await pc.close()
    return sdp


def without(sdp: str, *prefixes: str) -> str:
    """`sdp` without the lines that start with any of `prefixes`."""
    return "".join(line for line in sdp.splitlines(keepends=True) if not line.startswith(prefixes))


async def app_is_served(
    registrar: RegistrarClient, peer_id: str, device: tuple[str, bytes]
) -> None:
    """The paired app connects, authenticates and gets an answer to a request."""
    async with linked(registrar, peer_id, wait=30) as link:
        assert (await link.auth(*device))["type"] == "auth_ok"
        response = await link.request("GET", "/api/v1/cameras")
        assert response.status == 200, response.body


async def test_offers_aiortc_cannot_use_free_their_slots(
    stack: Stack, registrar: RegistrarClient, device: tuple[str, bytes]
) -> None:
    valid = await datachannel_offer_sdp()
    broken = [
        "v=0\r\nm=x\r\n",  # aiortc's parser asserts
        valid
        + "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=fmtp:1 x=1\r\n",  # its parser raises StopIteration
        without(valid, "a=setup:"),  # parses, then setRemoteDescription raises AttributeError
    ]
    for n in range(2 * MAX_CONNECTIONS):
        offer = data_offer(broken[n % len(broken)])
        with pytest.raises(Refused):  # an EXPIRE at once, and the slot is free again
            await asyncio.wait_for(registrar.exchange(stack.peer_id, offer), 10)
    await app_is_served(registrar, stack.peer_id, device)
    assert "Traceback" not in stack.edge.log()


async def test_paired_app_connects_while_a_stranger_hammers(
    stack: Stack, registrar: RegistrarClient, device: tuple[str, bytes]
) -> None:
    # Valid offers without candidates: the edge answers and waits for a connection that never
    # comes. The stranger uses many PeerJS ids, as anyone can mint them at the registrar.
    silent = without(await datachannel_offer_sdp(), "a=candidate:", "a=end-of-candidates")
    async with contextlib.AsyncExitStack() as stranger:
        ids = [
            await stranger.enter_async_context(RegistrarClient(stack.registrar_url))
            for _ in range(STRANGERS)
        ]
        answered = 0
        for n in range(MAX_CONNECTIONS + 4):  # more than every slot, each one answered
            with contextlib.suppress(Refused):
                offer = data_offer(silent)
                await asyncio.wait_for(ids[n % STRANGERS].exchange(stack.peer_id, offer), 10)
                answered += 1
        assert answered == MAX_CONNECTIONS + 4  # new offers displace old ones, none refused

        async def hammer() -> None:
            n = 0
            while True:
                await ids[n % STRANGERS].send("OFFER", stack.peer_id, data_offer(silent))
                n += 1
                await asyncio.sleep(HAMMER_INTERVAL)

        task = asyncio.create_task(hammer())
        try:
            await app_is_served(registrar, stack.peer_id, device)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def test_malformed_candidates_are_ignored(
    stack: Stack, registrar: RegistrarClient, device: tuple[str, bytes]
) -> None:
    silent = without(await datachannel_offer_sdp(), "a=candidate:", "a=end-of-candidates")
    offer = data_offer(silent)
    await asyncio.wait_for(registrar.exchange(stack.peer_id, offer), 10)
    for text in ("candidate:1 1 udp", "candidate:x x x x x x x x", "candidate:", 42):
        candidate = {"candidate": text, "sdpMid": "0", "sdpMLineIndex": 0}
        payload = {"candidate": candidate, "type": "data", "connectionId": offer["connectionId"]}
        await registrar.send("CANDIDATE", stack.peer_id, payload)
    await app_is_served(registrar, stack.peer_id, device)  # the edge is still registered


async def test_an_app_reloaded_again_and_again_is_served(
    stack: Stack, registrar: RegistrarClient, device: tuple[str, bytes]
) -> None:
    """A page reload leaves its old connection open on the edge until ICE notices (about 30 s):
    a caller with MAX_PER_SOURCE sessions, authenticated ones included, gets its oldest replaced
    by its new offer instead of being refused."""
    async with contextlib.AsyncExitStack() as reloads:
        for _ in range(MAX_PER_SOURCE):
            link = await reloads.enter_async_context(linked(registrar, stack.peer_id, wait=30))
            assert (await link.auth(*device))["type"] == "auth_ok"
        await app_is_served(registrar, stack.peer_id, device)
