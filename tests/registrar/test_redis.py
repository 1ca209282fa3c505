"""Two registrar nodes sharing one real Redis: relay, queues, takeover and rooms across nodes,
and a node killed with SIGKILL while the other keeps serving."""

from __future__ import annotations

import asyncio

import pytest

from peerwatch_registrar.rooms import room_id
from tests.support import wait_for_async

from .conftest import Peer

pytestmark = pytest.mark.slow

ROOM = room_id(b"test-secret", "127.0.0.1")


@pytest.fixture
def nodes(registrar_factory, redis_url):
    args = ("--redis-url", redis_url, "--redis-ttl", "1.5", "--expire-timeout", "1")
    return registrar_factory(*args), registrar_factory(*args)


async def test_relay_queue_and_takeover_across_nodes(nodes, connect, session) -> None:
    a, b = nodes
    for node in nodes:
        async with session.get(node.http + "/health") as resp:
            assert (await resp.json())["store"] == "redis"
    alice: Peer = await connect(a, "alice", token="ta")
    bob: Peer = await connect(b, "bob")
    await alice.works(bob)
    await bob.works(alice)
    offer = {"type": "OFFER", "dst": "bob", "payload": {"sdp": {"type": "offer", "sdp": "v=0"}}}
    await alice.send(offer)
    assert await bob.recv() == {**offer, "src": "alice"}

    thief: Peer = await connect(b, "alice", token="other", expect_open=False)
    assert (await thief.recv())["type"] == "ID-TAKEN"

    # Queued on node A, delivered when the id registers on node B.
    await alice.send({"type": "OFFER", "dst": "ghost", "payload": {"n": 1}})
    await asyncio.sleep(0.1)  # node A queues it before ghost exists (delivered either way)
    ghost: Peer = await connect(b, "ghost")
    queued = {"type": "OFFER", "src": "alice", "dst": "ghost", "payload": {"n": 1}}
    assert await ghost.recv() == queued

    # Never delivered: one EXPIRE back to the sender after expire_timeout.
    await alice.send({"type": "CANDIDATE", "dst": "nobody", "payload": {}})
    assert await alice.recv() == {"type": "EXPIRE", "src": "nobody", "dst": "alice"}

    # Same token on the other node: the new socket gets OPEN, the old one is closed.
    alice_b: Peer = await connect(b, "alice", token="ta")
    assert await alice.expect_closed() == 4000
    await ghost.works(alice_b)
    async with session.get(a.http + "/metrics") as resp:
        assert "peerwatch_registrar_peers 0\n" in await resp.text()


async def test_rooms_across_nodes(nodes, connect, session) -> None:
    a, b = nodes
    alice: Peer = await connect(a, "alice")
    bob: Peer = await connect(b, "bob")
    async with session.get(f"{b.http}/peerjs/alice/tok-alice/room/id") as resp:  # HTTP on B
        assert await resp.json() == {"roomId": ROOM}
    async with session.post(f"{a.http}/peerjs/alice/tok-alice/room/{ROOM}/join") as resp:
        assert await resp.json() == {"clientsIds": ["alice"]}
    async with session.post(f"{b.http}/peerjs/bob/tok-bob/room/{ROOM}/join") as resp:
        assert await resp.json() == {"clientsIds": ["alice", "bob"]}
    async with session.get(f"{a.http}/peerjs/alice/tok-alice/room/{ROOM}/members") as resp:
        assert await resp.json() == ["alice", "bob"]
    await asyncio.sleep(2)  # longer than the TTL: refreshed keys keep the room alive
    async with session.get(f"{a.http}/peerjs/alice/tok-alice/room/{ROOM}/members") as resp:
        assert await resp.json() == ["alice", "bob"]
    await bob.ws.close()

    async def bob_left() -> bool:
        async with session.get(f"{a.http}/peerjs/alice/tok-alice/room/{ROOM}/members") as resp:
            return bool(await resp.json() == ["alice"])

    await wait_for_async(bob_left, "bob gone from the room")
    async with session.get(f"{a.http}/peerjs/bob/tok-bob/room/{ROOM}/members") as resp:
        assert resp.status == 401  # bob is gone everywhere
    await alice.works(alice)


async def test_killed_node_does_not_break_the_other(nodes, connect, session) -> None:
    a, b = nodes
    alice: Peer = await connect(a, "alice")
    bob: Peer = await connect(b, "bob")
    carol: Peer = await connect(b, "carol")
    for peer, node in ((alice, a), (bob, b)):
        url = f"{node.http}/peerjs/{peer.id}/{peer.token}/room/{ROOM}/join"
        async with session.post(url) as resp:
            assert resp.status == 200
    await alice.works(bob)

    a.proc.kill()  # SIGKILL: no cleanup at all
    await bob.works(carol)
    # Until alice's key expires, messages to her are queued (her node no longer listens).
    await bob.send({"type": "OFFER", "dst": "alice", "payload": {"x": 1}})
    await carol.works(bob)
    await asyncio.sleep(2)  # > redis TTL: the dead node's ids are gone
    assert await bob.recv() == {"type": "EXPIRE", "src": "alice", "dst": "bob"}
    async with session.get(f"{b.http}/peerjs/bob/tok-bob/room/{ROOM}/members") as resp:
        assert await resp.json() == ["bob"]
    alice2: Peer = await connect(b, "alice", token="fresh")  # the id is free again
    await alice2.works(carol)
    await bob.works(alice2)
    async with session.get(b.http + "/health") as resp:
        assert resp.status == 200
