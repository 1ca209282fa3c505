"""Rate limits per socket and per client address: token buckets and address budgets."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rate:
    """A token bucket's refill per second and capacity."""

    per_second: float
    burst: float


class Bucket:
    """A token bucket, full when created."""

    __slots__ = ("stamp", "tokens")

    def __init__(self, rate: Rate, now: float) -> None:
        self.tokens = rate.burst
        self.stamp = now

    def take(self, rate: Rate, now: float, amount: float = 1.0) -> bool:
        """Take `amount` tokens if the bucket holds them now."""
        tokens = min(rate.burst, self.tokens + (now - self.stamp) * rate.per_second)
        self.stamp = now
        if tokens >= amount:
            self.tokens = tokens - amount
            return True
        self.tokens = tokens
        return False

    def full(self, rate: Rate, now: float) -> bool:
        """Tell whether the bucket has refilled completely."""
        return self.tokens + (now - self.stamp) * rate.per_second >= rate.burst


@dataclass(frozen=True, slots=True)
class AddressLimits:
    """What one client address may use, over all its sockets."""

    sockets: int
    registrations: Rate  # per second, from a per-minute figure
    frames: Rate
    bytes: Rate


class Budget:
    """One client address: its open sockets and its buckets."""

    __slots__ = ("bytes", "frames", "registrations", "sockets")

    def __init__(self, limits: AddressLimits, now: float) -> None:
        self.sockets = 0
        self.registrations = Bucket(limits.registrations, now)
        self.frames = Bucket(limits.frames, now)
        self.bytes = Bucket(limits.bytes, now)

    def take_frame(self, limits: AddressLimits, now: float, size: int) -> bool:
        """Count one frame of `size` bytes (a PING too); False when over the budget."""
        return self.frames.take(limits.frames, now) and self.bytes.take(limits.bytes, now, size)

    def idle(self, limits: AddressLimits, now: float) -> bool:
        """True when forgetting this address changes nothing: no socket, every bucket full."""
        return (
            self.sockets == 0
            and self.registrations.full(limits.registrations, now)
            and self.frames.full(limits.frames, now)
            and self.bytes.full(limits.bytes, now)
        )


class Budgets:
    """The budgets of the addresses seen recently."""

    __slots__ = ("_by_ip", "limits")

    def __init__(self, limits: AddressLimits) -> None:
        self.limits = limits
        self._by_ip: dict[str, Budget] = {}

    def __len__(self) -> int:
        return len(self._by_ip)

    def get(self, ip: str, now: float) -> Budget:
        """The budget of an address, created full."""
        budget = self._by_ip.get(ip)
        if budget is None:
            budget = self._by_ip[ip] = Budget(self.limits, now)
        return budget

    def sweep(self, now: float) -> None:
        """Forget addresses that are idle."""
        for ip in [ip for ip, b in self._by_ip.items() if b.idle(self.limits, now)]:
            del self._by_ip[ip]
