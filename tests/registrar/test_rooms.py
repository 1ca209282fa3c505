"""Plug-and-play rooms, client IP from trusted proxies only, and the static directory."""

from __future__ import annotations

import ipaddress

from peerwatch_registrar.rooms import client_ip, room_id

from .conftest import Peer

SECRET = b"test-secret"  # what registrar_factory passes in PEERWATCH_ROOM_SECRET


def _room(ip: str) -> str:
    return room_id(SECRET, ip)


def test_client_ip_trusts_only_configured_proxies() -> None:
    trusted = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("127.0.0.1/32")]
    xff = ["198.51.100.7, 203.0.113.5", "10.1.2.3"]
    assert client_ip("192.0.2.1", xff, trusted) == "192.0.2.1"  # untrusted peer: header ignored
    assert client_ip("127.0.0.1", xff, trusted) == "203.0.113.5"  # right-most untrusted hop
    assert client_ip("::ffff:127.0.0.1", [], trusted) == "127.0.0.1"
    assert client_ip("10.0.0.1", ["10.0.0.2"], trusted) == "10.0.0.2"  # all hops trusted
    assert client_ip("10.0.0.1", ["garbage, 10.0.0.9"], trusted) == "10.0.0.9"
    assert client_ip("2001:db8::1", ["203.0.113.5"], trusted) == "2001:db8::1"


async def test_room_routes(registrar_factory, connect, session) -> None:
    reg = registrar_factory()
    alice: Peer = await connect(reg, "alice")
    bob: Peer = await connect(reg, "bob")
    base = reg.http + "/peerjs"
    room = _room("127.0.0.1")

    async with session.get(f"{base}/alice/tok-alice/room/id?ts=1") as resp:
        assert resp.status == 200
        assert await resp.json() == {"roomId": room}
        assert resp.headers["Access-Control-Allow-Origin"] == "*"
    async with session.post(f"{base}/alice/tok-alice/room/{room}/join") as resp:
        assert await resp.json() == {"clientsIds": ["alice"]}
    async with session.post(f"{base}/bob/tok-bob/room/{room}/join") as resp:
        assert await resp.json() == {"clientsIds": ["alice", "bob"]}
    async with session.get(f"{base}/bob/tok-bob/room/{room}/members") as resp:
        assert await resp.json() == ["alice", "bob"]
    async with session.post(f"{base}/bob/tok-bob/room/{room}/leave") as resp:
        assert await resp.json() == {"wasInRoom": True}
    async with session.post(f"{base}/bob/tok-bob/room/{room}/leave") as resp:
        assert await resp.json() == {"wasInRoom": False}
    async with session.post(f"{base}/bob/tok-bob/room/{room}/join") as resp:
        assert resp.status == 200

    await alice.ws.close()  # members leave when their socket closes
    async with session.get(f"{base}/bob/tok-bob/room/{room}/members") as resp:
        assert await resp.json() == ["bob"]
    async with session.get(reg.http + "/metrics") as resp:
        assert "peerwatch_registrar_rooms 1\n" in await resp.text()
    await bob.ws.close()
    async with session.get(reg.http + "/metrics") as resp:
        assert "peerwatch_registrar_rooms 0\n" in await resp.text()


async def test_room_auth_errors(registrar_factory, connect, session) -> None:
    reg = registrar_factory()
    alice: Peer = await connect(reg, "alice")
    room = _room("127.0.0.1")
    checks = [
        ("GET", "/wrong/alice/tok-alice/room/id", 401, "Invalid key provided"),
        ("GET", "/peerjs/nobody/tok/room/id", 401, "Unauthorized"),
        ("GET", "/peerjs/alice/bad-token/room/id", 401, "Unauthorized"),  # same as unknown ids
        ("POST", f"/peerjs/alice/bad-token/room/{room}/join", 401, "Unauthorized"),
        ("POST", f"/peerjs/alice/tok-alice/room/{_room('203.0.113.5')}/join", 403, None),
        ("GET", f"/peerjs/alice/tok-alice/room/{_room('203.0.113.5')}/members", 403, None),
        ("POST", "/peerjs/alice/tok-alice/room/x/leave", 403, None),
        ("GET", f"/peerjs/alice/tok-alice/room/{room}/join", 405, None),
    ]
    for method, path, status, text in checks:
        async with session.request(method, reg.http + path) as resp:
            assert resp.status == status, path
            assert resp.headers["Access-Control-Allow-Origin"] == "*"
            if text is not None:
                assert await resp.text() == text
    join = f"{reg.http}/peerjs/alice/tok-alice/room/{room}/join"
    async with session.post(join, data=b"x" * 1_000_000) as resp:
        assert resp.status in (200, 413)  # the body is never read, or refused: not a crash
    async with session.get(reg.http + "/peerjs/alice/tok-alice/room/" + "x" * 5000) as resp:
        assert resp.status == 404
    await alice.works(alice)


async def test_forwarded_for_only_from_trusted_proxy(registrar_factory, connect, session) -> None:
    direct = registrar_factory()
    proxied = registrar_factory("--trusted-proxy", "127.0.0.1/32", "10.0.0.0/8")
    spoof = {"X-Forwarded-For": "203.0.113.5", "X-Client-IP": "198.51.100.1"}
    peers = []
    for reg, expected in ((direct, "127.0.0.1"), (proxied, "203.0.113.5")):
        peers.append(await connect(reg, "alice"))
        url = f"{reg.http}/peerjs/alice/tok-alice/room/id"
        async with session.get(url, headers=spoof) as resp:
            assert await resp.json() == {"roomId": _room(expected)}
    chain = {"X-Forwarded-For": "198.51.100.1, 203.0.113.9, 10.0.0.3"}
    async with session.get(f"{proxied.http}/peerjs/alice/tok-alice/room/id", headers=chain) as resp:
        assert await resp.json() == {"roomId": _room("203.0.113.9")}
    room = _room("203.0.113.9")
    url = f"{proxied.http}/peerjs/alice/tok-alice/room/{room}/join"
    async with session.post(url, headers=chain) as resp:
        assert await resp.json() == {"clientsIds": ["alice"]}


async def test_static_directory_alongside_the_api(registrar_factory, connect, session, tmp_path):
    site = tmp_path / "site"
    (site / "assets").mkdir(parents=True)
    (site / "index.html").write_text("<h1>pwa</h1>")
    (site / "assets" / "app.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("nope")
    reg = registrar_factory("--static", str(site))
    async with session.get(reg.http + "/") as resp:
        assert resp.status == 200
        assert await resp.text() == "<h1>pwa</h1>"
    async with session.get(reg.http + "/assets/app.js") as resp:
        assert await resp.text() == "console.log(1)"
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/assets/../../secret.txt", "/missing"):
        async with session.get(reg.http + path) as resp:
            assert resp.status == 404, path
    async with session.get(reg.http + "/peerjs/id") as resp:
        assert resp.status == 200
    async with session.get(reg.http + "/health") as resp:
        assert (await resp.json())["status"] == "ok"
    alice: Peer = await connect(reg, "alice")
    await alice.works(alice)
