"""Message expiry lives in the shared store: any node expires any queued message in Redis mode."""

from __future__ import annotations

import pytest

from .conftest import Peer

pytestmark = pytest.mark.slow


async def test_expire_reaches_the_sender_after_the_queueing_node_died(
    registrar_factory, redis_url, connect
) -> None:
    # A must die before the message is due: had A's own sweep expired it first, its EXPIRE went
    # to alice's old socket on A (under CI load, moving to B can take longer than 1 s).
    args = ("--redis-url", redis_url, "--redis-ttl", "1.5", "--expire-timeout", "4")
    a, b = registrar_factory(*args), registrar_factory(*args)
    alice: Peer = await connect(a, "alice", token="ta")
    await alice.send({"type": "OFFER", "dst": "ghost", "payload": {"n": 1}})  # queued by A
    moved: Peer = await connect(b, "alice", token="ta")  # the phone reconnects through B
    assert await alice.expect_closed() == 4000
    a.proc.kill()  # the node that queued the message is gone before it expires
    assert await moved.recv(15) == {"type": "EXPIRE", "src": "ghost", "dst": "alice"}
    await moved.nothing(1.5)  # once
    ghost: Peer = await connect(b, "ghost")
    await ghost.nothing()  # the expired message is gone
