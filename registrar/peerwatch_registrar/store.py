"""Shared registrar state: id registrations, queued messages for offline ids, and rooms.

`MemoryStore` keeps it in this process; `redis_store.RedisStore` shares it between nodes.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

RemoteHandler = Callable[[dict[str, Any]], Awaitable[None]]


class Queued(enum.Enum):
    """Outcome of queueing a message for an offline id."""

    OK = "ok"
    ID_FULL = "id_full"  # the id's queue holds its limit
    FULL = "full"  # the store holds its total limit


class Claim(enum.Enum):
    """Outcome of registering an id."""

    NEW = "new"
    TAKEOVER = "takeover"  # same token: the new socket replaces the old one
    TAKEN = "taken"  # another token holds the id


@dataclass(frozen=True, slots=True)
class Registration:
    """Who holds an id: a node, one of its sockets (`conn`), the hash of the token, and the
    room of the address the socket came from."""

    node: str
    conn: int
    token_hash: str
    room: str = ""


class Store(ABC):
    """The state every node must agree on. All methods are coroutines, for Redis."""

    def __init__(self, node: str) -> None:
        self.node = node

    async def start(self, on_remote: RemoteHandler) -> None:  # noqa: B027
        """Begin receiving events other nodes send to this one."""

    async def close(self) -> None:  # noqa: B027
        """Release connections."""

    @property
    def healthy(self) -> bool:
        """Tell whether the backing service answers."""
        return True

    @abstractmethod
    async def claim(self, peer_id: str, reg: Registration) -> tuple[Claim, Registration | None]:
        """Register `peer_id` unless another token holds it; return the previous holder."""

    @abstractmethod
    async def release(self, peer_id: str, reg: Registration) -> None:
        """Unregister `peer_id` if `reg` still holds it."""

    @abstractmethod
    async def lookup(self, peer_id: str) -> Registration | None:
        """Return who holds `peer_id`, if anyone."""

    async def refresh(self, regs: dict[str, Registration]) -> None:  # noqa: B027
        """Keep this node's registrations (and their rooms) alive."""

    async def forward(self, node: str, event: dict[str, Any]) -> bool:
        """Send an event to another node; False when that node is gone."""
        return False

    @abstractmethod
    async def ids(self) -> list[str]:
        """All registered ids (for discovery)."""

    @abstractmethod
    async def enqueue(
        self, dst: str, src: str, raw: str, *, now: float, limit: int, total: int, ttl: float
    ) -> Queued:
        """Queue a message for an offline id, unless its queue holds `limit` or all `total`."""

    @abstractmethod
    async def drain(self, dst: str) -> list[str]:
        """Take all queued messages for `dst`, oldest first."""

    @abstractmethod
    async def expire_due(self, cutoff: float) -> list[tuple[str, str]]:
        """Drop every message queued at or before `cutoff`, whichever node queued it; return
        the (src, dst) pairs that lost messages, each once, to send them EXPIRE."""

    @abstractmethod
    async def queued(self) -> int:
        """How many messages are queued."""

    @abstractmethod
    async def join(self, room: str, peer_id: str) -> list[str]:
        """Move `peer_id` into `room` (out of any other); return the members after joining."""

    @abstractmethod
    async def leave(self, room: str, peer_id: str) -> bool:
        """Remove `peer_id` from `room`; tell whether it was a member."""

    @abstractmethod
    async def members(self, room: str) -> list[str]:
        """Registered members of `room`."""

    @abstractmethod
    async def leave_all(self, peer_id: str) -> None:
        """Remove `peer_id` from every room (its socket closed)."""

    @abstractmethod
    async def room_count(self) -> int:
        """How many rooms have members."""


class MemoryStore(Store):
    """State of a single registrar process."""

    def __init__(self, node: str) -> None:
        super().__init__(node)
        self._regs: dict[str, Registration] = {}
        self._queues: dict[str, deque[tuple[str, float, str]]] = {}
        self._due: deque[tuple[float, str, str]] = deque()  # (queued at, src, dst), in order
        self._count = 0
        self._rooms: dict[str, set[str]] = {}
        self._rooms_of: dict[str, set[str]] = {}

    async def claim(self, peer_id: str, reg: Registration) -> tuple[Claim, Registration | None]:
        old = self._regs.get(peer_id)
        if old is not None and old.token_hash != reg.token_hash:
            return Claim.TAKEN, old
        self._regs[peer_id] = reg
        return (Claim.NEW, None) if old is None else (Claim.TAKEOVER, old)

    async def release(self, peer_id: str, reg: Registration) -> None:
        if self._regs.get(peer_id) == reg:
            del self._regs[peer_id]

    async def lookup(self, peer_id: str) -> Registration | None:
        return self._regs.get(peer_id)

    async def ids(self) -> list[str]:
        return list(self._regs)

    async def enqueue(
        self, dst: str, src: str, raw: str, *, now: float, limit: int, total: int, ttl: float
    ) -> Queued:
        if self._count >= total:
            return Queued.FULL
        queue = self._queues.setdefault(dst, deque())
        if len(queue) >= limit:
            return Queued.ID_FULL
        queue.append((src, now, raw))
        self._due.append((now, src, dst))
        self._count += 1
        return Queued.OK

    async def drain(self, dst: str) -> list[str]:
        queue = self._queues.pop(dst, ())
        self._count -= len(queue)
        return [raw for _src, _t, raw in queue]

    async def expire_due(self, cutoff: float) -> list[tuple[str, str]]:
        pairs: dict[tuple[str, str], None] = {}
        while self._due and self._due[0][0] <= cutoff:
            _t, src, dst = self._due.popleft()
            pairs[src, dst] = None
        return [pair for pair in pairs if self._expire(*pair, cutoff)]

    async def queued(self) -> int:
        return self._count

    def _expire(self, src: str, dst: str, cutoff: float) -> int:
        queue = self._queues.get(dst)
        if not queue:
            return 0
        kept = deque(e for e in queue if e[0] != src or e[1] > cutoff)
        removed = len(queue) - len(kept)
        self._count -= removed
        if kept:
            self._queues[dst] = kept
        else:
            del self._queues[dst]
        return removed

    async def join(self, room: str, peer_id: str) -> list[str]:
        for other in [r for r in self._rooms_of.get(peer_id, ()) if r != room]:
            await self.leave(other, peer_id)
        self._rooms.setdefault(room, set()).add(peer_id)
        self._rooms_of.setdefault(peer_id, set()).add(room)
        return sorted(self._rooms[room])

    async def leave(self, room: str, peer_id: str) -> bool:
        members = self._rooms.get(room)
        if members is None or peer_id not in members:
            return False
        members.discard(peer_id)
        if not members:
            del self._rooms[room]
        rooms = self._rooms_of.get(peer_id)
        if rooms is not None:
            rooms.discard(room)
            if not rooms:
                del self._rooms_of[peer_id]
        return True

    async def members(self, room: str) -> list[str]:
        return sorted(self._rooms.get(room, ()))

    async def leave_all(self, peer_id: str) -> None:
        for room in list(self._rooms_of.get(peer_id, ())):
            await self.leave(room, peer_id)

    async def room_count(self) -> int:
        return len(self._rooms)
