"""Registrar state shared by several nodes through Redis: keys with TTL plus one pub/sub channel
per node. Nothing is persisted; a node that dies loses its ids when their TTL runs out."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from .store import Claim, Queued, Registration, RemoteHandler, Store

_LOGGER = logging.getLogger(__name__)

REDIS_CONNECTIONS = 32  # per node
_P = "pw:"  # every key and channel starts with this
_ID, _QUEUE, _ROOM = _P + "id:", _P + "q:", _P + "room:"
_ROOMS_OF, _NODE = _P + "rooms-of:", _P + "node:"
_DUE, _COUNT = _P + "due", _P + "queued"  # (src, dst) pairs by oldest message; message count

_CLAIM = """
local cur = redis.call('GET', KEYS[1])
if cur and cjson.decode(cur).h ~= ARGV[2] then return {'taken', cur} end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
if cur then return {'takeover', cur} end
return {'new', ''}
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_REFRESH = f"""
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2])
elseif not cur then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
else return 0 end
local rooms = redis.call('SMEMBERS', KEYS[2])
for _, r in ipairs(rooms) do redis.call('PEXPIRE', '{_ROOM}' .. r, ARGV[2]) end
if #rooms > 0 then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
return 1
"""
_ENQUEUE = """
if tonumber(redis.call('GET', KEYS[3]) or '0') >= tonumber(ARGV[5]) then return 'full' end
if redis.call('LLEN', KEYS[1]) >= tonumber(ARGV[2]) then return 'id_full' end
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], 'NX', ARGV[6], ARGV[4])
redis.call('INCR', KEYS[3])
return 'ok'
"""
_DRAIN = """
local entries = redis.call('LRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1])
if #entries > 0 then redis.call('DECRBY', KEYS[2], #entries) end
return entries
"""
# Due pairs, atomically: two nodes sweeping at once never both send the same EXPIRE.
_EXPIRE_DUE = f"""
local cutoff, out = tonumber(ARGV[1]), {{}}
for _, pair in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', cutoff, 'LIMIT', 0, 1000)) do
  local sep = string.find(pair, '\\n', 1, true)
  local src, queue = string.sub(pair, 1, sep - 1), '{_QUEUE}' .. string.sub(pair, sep + 1)
  local removed, later = 0, nil
  for _, raw in ipairs(redis.call('LRANGE', queue, 0, -1)) do
    local e = cjson.decode(raw)
    if e.s == src then
      if e.t <= cutoff then removed = removed + redis.call('LREM', queue, 1, raw)
      elseif not later or e.t < later then later = e.t end
    end
  end
  if later then redis.call('ZADD', KEYS[1], later, pair) else redis.call('ZREM', KEYS[1], pair) end
  if removed > 0 then
    redis.call('DECRBY', KEYS[2], removed)
    table.insert(out, pair)
  end
end
return out
"""
# Members still registered; stale ones (their node died) are dropped on the way.
_MEMBERS = f"""
local out = {{}}
for _, m in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', '{_ID}' .. m) == 1 then table.insert(out, m)
  else redis.call('SREM', KEYS[1], m) end
end
table.sort(out)
return out
"""
_JOIN = f"""
for _, r in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if r ~= ARGV[2] then
    redis.call('SREM', '{_ROOM}' .. r, ARGV[1])
    redis.call('SREM', KEYS[2], r)
  end
end
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
{_MEMBERS}
"""
_LEAVE_ALL = f"""
for _, r in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  redis.call('SREM', '{_ROOM}' .. r, ARGV[1])
end
return redis.call('DEL', KEYS[1])
"""


def _encode(reg: Registration) -> str:
    data = {"n": reg.node, "c": reg.conn, "h": reg.token_hash, "r": reg.room}
    return json.dumps(data, separators=(",", ":"))


def _decode(text: str) -> Registration:
    data = json.loads(text)
    return Registration(data["n"], data["c"], data["h"], data.get("r", ""))


class RedisStore(Store):
    """State in Redis; events to other nodes over their pub/sub channels."""

    def __init__(self, node: str, url: str, ttl: float) -> None:
        super().__init__(node)
        # A bounded pool that waits for a free connection: a burst of registrations queues here
        # (the default pool refuses the 101st concurrent command).
        pool = aioredis.BlockingConnectionPool.from_url(
            url, max_connections=REDIS_CONNECTIONS, decode_responses=True
        )
        self._redis = aioredis.Redis(connection_pool=pool)
        self._ttl_ms = int(ttl * 1000)
        self._listener: asyncio.Task[None] | None = None
        self._subscribed = False
        s = self._redis.register_script
        self._claim, self._release, self._refresh = s(_CLAIM), s(_RELEASE), s(_REFRESH)
        self._enqueue, self._drain, self._expire_due = s(_ENQUEUE), s(_DRAIN), s(_EXPIRE_DUE)
        self._join, self._members, self._leave_all = s(_JOIN), s(_MEMBERS), s(_LEAVE_ALL)

    async def start(self, on_remote: RemoteHandler) -> None:
        """Subscribe to this node's channel (and keep re-subscribing if Redis goes away)."""
        await self._redis.ping()
        ready = asyncio.Event()
        self._listener = asyncio.create_task(self._listen(on_remote, ready))
        await asyncio.wait_for(ready.wait(), 10)

    async def _listen(self, on_remote: RemoteHandler, ready: asyncio.Event) -> None:
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(_NODE + self.node)
                    self._subscribed = True
                    ready.set()
                    async for msg in pubsub.listen():
                        if msg["type"] == "message":
                            await self._dispatch(on_remote, msg["data"])
            except (RedisError, OSError) as err:
                self._subscribed = False
                _LOGGER.warning("redis subscription lost", extra={"error": str(err)})
                await asyncio.sleep(1)

    async def _dispatch(self, on_remote: RemoteHandler, data: str) -> None:
        try:
            event = json.loads(data)
            await on_remote(event)
        except Exception:
            _LOGGER.exception("bad event from another node")

    async def close(self) -> None:
        """Stop listening and close the connection pool."""
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self._redis.aclose()

    @property
    def healthy(self) -> bool:
        """True while this node is subscribed to its channel."""
        return self._subscribed

    async def claim(self, peer_id: str, reg: Registration) -> tuple[Claim, Registration | None]:
        kind, old = await self._claim(
            keys=[_ID + peer_id], args=[_encode(reg), reg.token_hash, self._ttl_ms]
        )
        return Claim(kind), (_decode(old) if old else None)

    async def release(self, peer_id: str, reg: Registration) -> None:
        await self._release(keys=[_ID + peer_id], args=[_encode(reg)])

    async def lookup(self, peer_id: str) -> Registration | None:
        text = await self._redis.get(_ID + peer_id)
        return _decode(text) if text else None

    async def refresh(self, regs: dict[str, Registration]) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            for peer_id, reg in regs.items():
                await self._refresh(
                    keys=[_ID + peer_id, _ROOMS_OF + peer_id],
                    args=[_encode(reg), self._ttl_ms],
                    client=pipe,
                )
            await pipe.execute()

    async def forward(self, node: str, event: dict[str, object]) -> bool:
        data = json.dumps(event, separators=(",", ":"))
        return bool(await self._redis.publish(_NODE + node, data))

    async def ids(self) -> list[str]:
        return [key[len(_ID) :] async for key in self._redis.scan_iter(_ID + "*", count=1000)]

    async def enqueue(
        self, dst: str, src: str, raw: str, *, now: float, limit: int, total: int, ttl: float
    ) -> Queued:
        entry = json.dumps({"s": src, "t": now, "m": raw}, separators=(",", ":"))
        args = [entry, limit, int(ttl * 1000), f"{src}\n{dst}", total, repr(now)]
        return Queued(await self._enqueue(keys=[_QUEUE + dst, _DUE, _COUNT], args=args))

    async def drain(self, dst: str) -> list[str]:
        entries = await self._drain(keys=[_QUEUE + dst, _COUNT])
        return [json.loads(e)["m"] for e in entries]

    async def expire_due(self, cutoff: float) -> list[tuple[str, str]]:
        pairs = await self._expire_due(keys=[_DUE, _COUNT], args=[repr(cutoff)])
        return [tuple(pair.split("\n", 1)) for pair in pairs]  # type: ignore[misc]

    async def queued(self) -> int:
        return max(0, int(await self._redis.get(_COUNT) or 0))

    async def join(self, room: str, peer_id: str) -> list[str]:
        return list(
            await self._join(
                keys=[_ROOM + room, _ROOMS_OF + peer_id], args=[peer_id, room, self._ttl_ms]
            )
        )

    async def leave(self, room: str, peer_id: str) -> bool:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.srem(_ROOM + room, peer_id)
            pipe.srem(_ROOMS_OF + peer_id, room)
            removed, _ = await pipe.execute()
        return bool(removed)

    async def members(self, room: str) -> list[str]:
        return list(await self._members(keys=[_ROOM + room]))

    async def leave_all(self, peer_id: str) -> None:
        await self._leave_all(keys=[_ROOMS_OF + peer_id], args=[peer_id])

    async def room_count(self) -> int:
        return len([k async for k in self._redis.scan_iter(_ROOM + "*", count=1000)])
