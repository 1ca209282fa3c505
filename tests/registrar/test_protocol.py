"""PeerJS wire protocol of the registrar, with real WebSocket clients against a real process."""

from __future__ import annotations

import asyncio
import re
import time

import aiohttp
import pytest

from .conftest import Peer

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


async def test_http_routes_and_cors(registrar_factory, session) -> None:
    reg = registrar_factory()
    async with session.get(reg.http + "/") as resp:
        assert resp.status == 200
        assert (await resp.json())["name"] == "PeerJS Server"
    async with session.get(reg.http + "/peerjs/id?ts=123&version=1.5.5") as resp:
        assert resp.status == 200
        assert resp.content_type == "text/html"
        assert UUID_RE.fullmatch(await resp.text())
        assert resp.headers["Access-Control-Allow-Origin"] == "*"
    async with session.get(reg.http + "/peerjs/peers") as resp:
        assert resp.status == 401
        assert resp.headers["Access-Control-Allow-Origin"] == "*"
    preflight = {
        "Origin": "https://pwa.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    async with session.options(reg.http + "/peerjs/a/b/room/x/join", headers=preflight) as resp:
        assert resp.status == 204
        assert resp.headers["Access-Control-Allow-Origin"] == "*"
        assert "POST" in resp.headers["Access-Control-Allow-Methods"]
        assert resp.headers["Access-Control-Allow-Headers"] == "content-type"
    async with session.get(reg.http + "/peerjs") as resp:  # the socket path without upgrade
        assert resp.status == 400


async def test_discovery_lists_registered_ids(registrar_factory, connect, session) -> None:
    reg = registrar_factory("--allow-discovery")
    peers = [await connect(reg, "alice"), await connect(reg, "bob")]
    async with session.get(reg.http + "/peerjs/peers") as resp:
        assert sorted(await resp.json()) == sorted(p.id for p in peers)


async def test_relay_every_type_sets_src_and_drops_extra_fields(registrar_factory, connect) -> None:
    reg = registrar_factory()
    alice: Peer = await connect(reg, "alice")
    bob: Peer = await connect(reg, "bob")
    payload = {"sdp": {"type": "offer", "sdp": "v=0\r\n"}, "type": "data", "connectionId": "dc_1"}
    for kind in ("OFFER", "ANSWER", "CANDIDATE", "LEAVE", "EXPIRE"):
        await alice.send(
            {"type": kind, "dst": "bob", "src": "mallory", "extra": 1, "payload": payload}
        )
        assert await bob.recv() == {"type": kind, "src": "alice", "dst": "bob", "payload": payload}
    await bob.send({"type": "ANSWER", "dst": "alice"})  # no payload: relayed without one
    assert await alice.recv() == {"type": "ANSWER", "src": "bob", "dst": "alice"}
    await alice.send({"type": "HEARTBEAT"})  # consumed, no answer
    await alice.nothing()
    await alice.works(alice)  # sending to yourself works, as in the reference


NO_PARAMS = "No id, token, or key supplied to websocket server"
BAD_PARAMS = [
    ({"key": "peerjs", "id": "a"}, NO_PARAMS),
    ({"key": "peerjs", "id": "", "token": "t"}, NO_PARAMS),
    ({"key": "wrong", "id": "a", "token": "t"}, "Invalid key provided"),
    ({"key": "peerjs", "id": "bad id!", "token": "t"}, "Invalid id"),
    ({"key": "peerjs", "id": "x" * 65, "token": "t"}, "Invalid id"),
    ({"key": "peerjs", "id": "-lead", "token": "t"}, "Invalid id"),
    ({"key": "peerjs", "id": "a", "token": "t" * 200}, "Invalid token provided"),
    ({"key": "peerjs", "id": "a", "token": "sp ace"}, "Invalid token provided"),
]


async def test_bad_connect_params_get_error_and_close(registrar_factory, session, connect) -> None:
    reg = registrar_factory()
    for params, message in BAD_PARAMS:
        async with session.ws_connect(reg.ws_url, params=params) as ws:
            msg = await ws.receive_json(timeout=30)
            assert msg == {"type": "ERROR", "payload": {"msg": message}}, params
            closing = await ws.receive(30)
            assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    alice: Peer = await connect(reg, "alice")
    await alice.works(alice)


async def test_id_taken_and_same_token_takeover(registrar_factory, connect) -> None:
    reg = registrar_factory()
    alice1: Peer = await connect(reg, "alice", token="secret1")
    bob: Peer = await connect(reg, "bob")
    thief: Peer = await connect(reg, "alice", token="other", expect_open=False)
    assert await thief.recv() == {"type": "ID-TAKEN", "payload": {"msg": "ID is taken"}}
    await thief.expect_closed()
    await alice1.works(bob)  # the holder is unaffected

    alice2: Peer = await connect(reg, "alice", token="secret1")  # OPEN again, unlike the reference
    assert await alice1.expect_closed() == 4000  # the replaced socket is closed, not a zombie
    await bob.works(alice2)
    await alice2.works(bob)


@pytest.mark.slow
async def test_queue_for_offline_id_flushed_in_order(registrar_factory, connect) -> None:
    reg = registrar_factory()
    alice: Peer = await connect(reg, "alice")
    for kind in ("OFFER", "LEAVE", "CANDIDATE", "EXPIRE"):
        await alice.send({"type": kind, "dst": "ghost", "payload": {"k": kind}})
    ghost: Peer = await connect(reg, "ghost")  # gets OPEN first, then the queue
    assert [(m["type"], m["src"]) for m in (await ghost.recv(), await ghost.recv())] == [
        ("OFFER", "alice"),
        ("CANDIDATE", "alice"),
    ]
    await ghost.nothing()  # LEAVE and EXPIRE are never queued
    await alice.nothing(1.5)  # delivered messages do not expire


@pytest.mark.slow
async def test_undelivered_messages_expire_once_per_pair(registrar_factory, connect) -> None:
    reg = registrar_factory("--expire-timeout", "1")
    alice: Peer = await connect(reg, "alice")
    await alice.send({"type": "OFFER", "dst": "ghost", "payload": {}})
    await alice.send({"type": "CANDIDATE", "dst": "ghost", "payload": {}})
    started = time.monotonic()
    assert await alice.recv() == {"type": "EXPIRE", "src": "ghost", "dst": "alice"}
    assert 0.9 < time.monotonic() - started < 15  # after the 1 s expire timeout, not before
    await alice.nothing(1.5)  # and only once
    ghost: Peer = await connect(reg, "ghost")
    await ghost.nothing()  # expired messages are gone


@pytest.mark.slow
async def test_alive_timeout_heartbeat_and_ws_ping(registrar_factory, connect) -> None:
    reg = registrar_factory("--alive-timeout", "3")
    silent: Peer = await connect(reg, "silent")
    beating: Peer = await connect(reg, "beating")
    pinging: Peer = await connect(reg, "pinging")
    for _ in range(8):  # 4 s of beats every 0.5 s: longer than the alive timeout, with slack
        await beating.send({"type": "HEARTBEAT"})
        await pinging.ws.ping(b"x")
        await asyncio.sleep(0.5)
    assert silent.ws.closed or await silent.expect_closed() is not None
    await beating.works(pinging)
    await pinging.works(beating)
    again: Peer = await connect(reg, "silent", token="new")  # the dead id is free again
    await again.works(beating)


async def test_leave_without_dst_unregisters(registrar_factory, connect) -> None:
    reg = registrar_factory()
    alice: Peer = await connect(reg, "alice", token="t1")
    await alice.send({"type": "LEAVE"})
    await alice.expect_closed()
    await connect(reg, "alice", token="t2")


TOO_BIG = "Frame larger than 1000 bytes"


async def test_bad_frames_get_errors_and_socket_keeps_working(registrar_factory, connect) -> None:
    reg = registrar_factory("--max-frame", "1000", "--max-strikes", "20")
    alice: Peer = await connect(reg, "alice")
    bob: Peer = await connect(reg, "bob")
    cases: list[tuple[str | bytes, str]] = [
        ("not json at all", "Invalid JSON frame"),
        ('{"type": "OFFER", ', "Invalid JSON frame"),
        ("[1, 2]", "Frame must be a JSON object"),
        ('"HEARTBEAT"', "Frame must be a JSON object"),
        ('{"dst": "bob"}', "Frame has no string 'type'"),
        ('{"type": 5}', "Frame has no string 'type'"),
        ('{"type": "NOPE", "dst": "bob"}', "Unknown message type: NOPE"),
        ('{"type": "OFFER"}', "OFFER needs a valid 'dst' id"),
        ('{"type": "OFFER", "dst": 7}', "OFFER needs a valid 'dst' id"),
        ('{"type": "OFFER", "dst": "a b c !"}', "OFFER needs a valid 'dst' id"),
        ("[" * 1000 + "]" * 1000, TOO_BIG),
        ('{"type":"OFFER","dst":"bob","payload":"' + "é" * 600 + '"}', TOO_BIG),
        ("[" * 990, "Invalid JSON frame"),
        (b"\x00\x01binary", "Binary frames are not supported"),
    ]
    for frame, error in cases:
        if isinstance(frame, bytes):
            await alice.ws.send_bytes(frame)
        else:
            await alice.ws.send_str(frame)
        assert await alice.recv() == {"type": "ERROR", "payload": {"msg": error}}, frame[:40]
        await bob.nothing(0.05)
    await alice.works(bob)
    await bob.works(alice)


async def test_huge_frame_closes_cleanly_others_unaffected(registrar_factory, connect) -> None:
    reg = registrar_factory("--max-frame", "1000")
    alice: Peer = await connect(reg, "alice")
    bob: Peer = await connect(reg, "bob")
    await alice.ws.send_str("x" * 10_000)  # above 4 x max-frame: the socket is closed (1009)
    assert await alice.expect_closed() == 1009
    await bob.works(bob)
    await connect(reg, "alice")


async def test_flood_is_rate_limited_then_closed(registrar_factory, connect, session) -> None:
    reg = registrar_factory("--rate", "20", "--burst", "10")
    flooder: Peer = await connect(reg, "flooder")
    bob: Peer = await connect(reg, "bob")
    for i in range(100):
        await flooder.send({"type": "CANDIDATE", "dst": "bob", "payload": {"i": i}})
    got = []
    while len(got) < 10:
        got.append((await bob.recv())["payload"]["i"])
    assert got == list(range(10))  # the burst passes, in order
    errors = 0
    while (msg := await flooder.ws.receive(30)).type is aiohttp.WSMsgType.TEXT:
        assert msg.json() == {"type": "ERROR", "payload": {"msg": "Rate limit exceeded"}}
        errors += 1
    assert flooder.ws.close_code == 1008
    assert errors == 10  # one ERROR per refused frame up to `burst`, then the socket is closed
    await bob.works(bob)
    async with session.get(reg.http + "/metrics") as resp:
        text = await resp.text()
    assert 'peerwatch_registrar_rejected_frames_total{reason="rate"} 11' in text


async def test_socket_limit(registrar_factory, connect) -> None:
    reg = registrar_factory("--max-sockets", "2")
    a: Peer = await connect(reg, "a")
    b: Peer = await connect(reg, "b")
    c: Peer = await connect(reg, "c", expect_open=False)
    assert await c.recv() == {
        "type": "ERROR",
        "payload": {"msg": "Server has reached its concurrent user limit"},
    }
    await c.expect_closed()
    await a.works(b)
    await a.ws.close()
    await connect(reg, "c")


async def test_queue_bounds(registrar_factory, connect) -> None:
    reg = registrar_factory("--queue-per-id", "3", "--queue-total", "5")
    alice: Peer = await connect(reg, "alice")
    for i in range(4):
        await alice.send({"type": "OFFER", "dst": "ghost", "payload": {"i": i}})
    assert await alice.recv() == {
        "type": "ERROR",
        "payload": {"msg": "Message queue for ghost is full"},
    }
    for i in range(3):
        await alice.send({"type": "OFFER", "dst": f"ghost{i}", "payload": {}})
    full = {"type": "ERROR", "payload": {"msg": "Server message queue is full"}}
    assert await alice.recv() == full
    ghost: Peer = await connect(reg, "ghost")
    assert [(await ghost.recv())["payload"]["i"] for _ in range(3)] == [0, 1, 2]


async def test_path_prefix_and_custom_key(registrar_factory, connect, session) -> None:
    reg = registrar_factory("--key", "pw", path="/myapp/")
    async with session.get(reg.http + "/myapp/pw/id") as resp:
        assert resp.status == 200
    async with session.get(reg.http + "/pw/id") as resp:
        assert resp.status == 404
    alice: Peer = await connect(reg, "alice", key="pw")
    await alice.works(alice)
    wrong: Peer = await connect(reg, "bob", key="peerjs", expect_open=False)
    assert (await wrong.recv())["payload"]["msg"] == "Invalid key provided"


async def test_metrics_count_relayed_and_rejected(registrar_factory, connect, session) -> None:
    reg = registrar_factory()
    alice: Peer = await connect(reg, "alice")
    bob: Peer = await connect(reg, "bob")
    await alice.works(bob)
    await alice.ws.send_str("garbage")
    await alice.recv()
    await connect(reg, "bob", token="other", expect_open=False)
    async with session.get(reg.http + "/metrics") as resp:
        text = await resp.text()
    assert "peerwatch_registrar_messages_relayed_total 1\n" in text
    assert re.search(r"peerwatch_registrar_bytes_relayed_total [1-9]\d*\n", text)
    assert 'peerwatch_registrar_rejected_frames_total{reason="bad_json"} 1\n' in text
    assert 'peerwatch_registrar_refused_registrations_total{reason="id_taken"} 1\n' in text
    assert "peerwatch_registrar_peers 2\n" in text
    assert "tok-" not in reg.proc.log()  # tokens never reach the logs


async def test_sigterm_closes_sockets_with_1001(registrar_factory, connect) -> None:
    reg = registrar_factory()
    alice: Peer = await connect(reg, "alice")
    assert reg.proc.proc is not None
    reg.proc.proc.terminate()
    assert await alice.expect_closed() == 1001
    assert await asyncio.to_thread(reg.proc.proc.wait, 10) == 0
