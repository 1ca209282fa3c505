"""The edge's PeerJS client against real registrars: the reference npm `peer` server (strict
JSON-heartbeat liveness) and ours (rooms)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from peerwatch_edge.remote.signaling import PeerIdentity, Signaling, load_identity
from tests.support import PYTHON, REPO, ServerProcess, free_port, wait_for_async

pytestmark = pytest.mark.slow


async def test_heartbeats_relay_and_id_taken_on_the_reference_server(
    start_server: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    port = free_port()
    peerjs = str(REPO / "pwa" / "node_modules" / ".bin" / "peerjs")
    argv = [peerjs, "--host", "127.0.0.1", "--port", str(port), "--alive_timeout", "3000"]
    start_server(argv, port=port, name="peerjs")
    url = f"http://127.0.0.1:{port}"
    identity = load_identity(tmp_path, "ab" * 16)

    # Someone else holds the edge's id (another token): the edge reports an error and retries.
    async with aiohttp.ClientSession() as session:
        squat = {"key": "peerjs", "id": identity.id, "token": "other"}
        squatter = await session.ws_connect(f"ws://127.0.0.1:{port}/peerjs", params=squat)
        assert (await squatter.receive_json())["type"] == "OPEN"
        received: list[dict[str, Any]] = []
        signaling = Signaling(url, "peerjs", identity, received.append)
        await signaling.start()
        try:
            await wait_for_async(lambda: signaling.status == "error", "error status")
            assert not signaling.connected.is_set()
            await squatter.close()  # the id is free again
            await wait_for_async(lambda: signaling.status == "connected", "connected")

            # JSON HEARTBEATs keep it registered past the server's 3 s alive timeout.
            await asyncio.sleep(4.5)  # the point: longer than the alive timeout
            app = {"key": "peerjs", "id": "pw-app-1", "token": "t"}
            async with session.ws_connect(f"ws://127.0.0.1:{port}/peerjs", params=app) as ws:
                assert (await ws.receive_json())["type"] == "OPEN"
                payload = {"connectionId": "dc_1", "type": "data", "sdp": {"type": "offer"}}
                await ws.send_str(
                    json.dumps({"type": "OFFER", "dst": identity.id, "payload": payload})
                )
                await wait_for_async(lambda: len(received) == 1, "the offer relayed")
            assert received[0] == {
                "type": "OFFER",
                "src": "pw-app-1",
                "dst": identity.id,
                "payload": payload,
            }
            assert signaling.status == "connected"
            assert signaling.room_id is None  # the reference server has no rooms
            assert await signaling.send("ANSWER", "pw-app-1", {"connectionId": "dc_1"})
        finally:
            await signaling.stop()
        assert signaling.status == "stopped"
        assert not await signaling.send("ANSWER", "pw-app-1", {})


async def test_room_is_joined_again_after_a_registrar_restart(
    start_server: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    port = free_port()
    argv = [PYTHON, "-m", "peerwatch_registrar", "--host", "127.0.0.1", "--port", str(port)]
    registrar = start_server(argv, port=port, name="registrar")
    identity = PeerIdentity("pw-edge-" + "cd" * 16, "secret-token")
    signaling = Signaling(f"http://127.0.0.1:{port}/", "peerjs", identity, lambda _m: None)
    await signaling.start()
    try:
        await wait_for_async(lambda: signaling.room_id is not None, "a room")
        members_url = f"{signaling.room_base}{signaling.room_id}/members"
        async with aiohttp.ClientSession() as session:
            async with session.get(members_url) as resp:
                assert identity.id in await resp.json()
            registrar.stop()
            await wait_for_async(lambda: signaling.status == "connecting", "reconnecting")
            registrar.start()
            await wait_for_async(lambda: signaling.room_id is not None, "a room again")
            async with session.get(f"{signaling.room_base}{signaling.room_id}/members") as resp:
                assert identity.id in await resp.json()
    finally:
        await signaling.stop()
