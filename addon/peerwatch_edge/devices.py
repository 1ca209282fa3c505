"""Paired remote devices (phones, laptops) and the short pairing window that admits new ones.

The registry lives in `data_dir/devices.json`, rewritten atomically (temporary file, fsync,
rename) so a crash or a full disk never leaves a half-written file: the previous content stays.
An unreadable file is moved aside (`devices.json.corrupt-<time>`) and logged, never overwritten.
Reads are in memory; writes run on a worker thread. Device keys never leave this module except
through `complete_pairing` (the one moment the new device receives its key) and `Device.key`
for the DataChannel authentication; `Device.to_dict()` leaves the key out.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

from .files import write_atomic
from .model import iso, utcnow

_LOGGER = logging.getLogger(__name__)

FILE_NAME: Final = "devices.json"
PAIRING_SECONDS: Final = 300.0
MAX_ATTEMPTS: Final = 5
KEY_BYTES: Final = 32
MAX_NAME: Final = 64


class PairingError(Exception):
    """No pairing window is open (never opened, expired, used or closed after bad codes)."""


@dataclass(slots=True, frozen=True)
class PairingWindow:
    """An open pairing window: a 6-digit single-use code valid until `expires_at`."""

    code: str
    expires_at: datetime
    attempts_left: int = MAX_ATTEMPTS

    def to_dict(self) -> dict[str, Any]:
        """Return what `POST /pairing` answers."""
        return {"code": self.code, "expires_at": iso(self.expires_at)}


@dataclass(slots=True, frozen=True)
class Device:
    """A paired device; `key` is its 32-byte HMAC key."""

    id: str
    name: str
    key: bytes
    created_at: datetime
    last_seen: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the device as the API shows it: never the key."""
        return {
            "id": self.id,
            "name": self.name,
            "created_at": iso(self.created_at),
            "last_seen": iso(self.last_seen),
        }

    def _stored(self) -> dict[str, Any]:
        return {**self.to_dict(), "key": base64.b64encode(self.key).decode("ascii")}


def _parse_time(value: Any) -> datetime | None:  # noqa: ANN401
    if value is None:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _from_stored(item: dict[str, Any]) -> Device:
    key = base64.b64decode(item["key"], validate=True)
    if len(key) != KEY_BYTES:
        msg = f"device {item.get('id')!r}: key is not {KEY_BYTES} bytes"
        raise ValueError(msg)
    created = _parse_time(item["created_at"])
    if created is None:
        msg = f"device {item.get('id')!r}: no created_at"
        raise ValueError(msg)
    return Device(
        id=str(item["id"]),
        name=str(item["name"]),
        key=key,
        created_at=created,
        last_seen=_parse_time(item.get("last_seen")),
    )


def _check_name(name: object) -> str:
    """Return `name` stripped, or raise `ValueError` unless it is 1 to 64 printable characters."""
    name = name.strip() if isinstance(name, str) else ""
    if not name or len(name) > MAX_NAME or not name.isprintable():
        msg = f"device name must be 1 to {MAX_NAME} printable characters"
        raise ValueError(msg)
    return name


class DeviceRegistry:
    """Paired devices persisted in `data_dir`, plus the in-memory pairing window."""

    def __init__(
        self,
        data_dir: Path,
        *,
        pairing_seconds: float = PAIRING_SECONDS,
        max_attempts: int = MAX_ATTEMPTS,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        """Load the registry (a small file, read once at start-up)."""
        self.path = data_dir / FILE_NAME
        self._pairing_seconds = pairing_seconds
        self._max_attempts = max_attempts
        self._clock = clock
        self._window: PairingWindow | None = None
        self._lock = asyncio.Lock()
        data_dir.mkdir(parents=True, exist_ok=True)
        self._devices: dict[str, Device] = self._load()

    def _load(self) -> dict[str, Device]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        try:
            items = json.loads(raw)["devices"]
            devices = [_from_stored(item) for item in items]
        except (ValueError, KeyError, TypeError, binascii.Error) as err:
            aside = self.path.with_name(f"{FILE_NAME}.corrupt-{int(self._clock().timestamp())}")
            self.path.replace(aside)
            _LOGGER.error(
                "%s is unreadable (%s); moved it to %s, starting with no paired devices",
                self.path,
                err,
                aside.name,
            )
            return {}
        return {device.id: device for device in devices}

    async def _save(self, devices: dict[str, Device]) -> None:
        """Persist `devices`, then adopt them; on a failed write memory keeps the old state."""
        body = {"version": 1, "devices": [d._stored() for d in devices.values()]}
        data = json.dumps(body, indent=1).encode()
        await asyncio.to_thread(write_atomic, self.path, data, 0o600)
        self._devices = devices

    # --- devices -----------------------------------------------------------------------------

    def list(self) -> list[Device]:
        """Return the paired devices, oldest first."""
        return sorted(self._devices.values(), key=lambda d: (d.created_at, d.id))

    def get(self, device_id: str) -> Device | None:
        """Return a paired device, or None when unknown or revoked."""
        return self._devices.get(device_id)

    async def revoke(self, device_id: str) -> bool:
        """Forget a device (its key stops working at once); False when it was not paired."""
        async with self._lock:
            if device_id not in self._devices:
                return False
            devices = dict(self._devices)
            del devices[device_id]
            await self._save(devices)
        _LOGGER.info("revoked device %s", device_id)
        return True

    async def rename(self, device_id: str, name: str) -> Device | None:
        """Give a paired device a new name; None when it is not paired.

        Raises `ValueError` for a bad name.
        """
        name = _check_name(name)
        async with self._lock:
            device = self._devices.get(device_id)
            if device is None:
                return None
            device = replace(device, name=name)
            await self._save({**self._devices, device_id: device})
        _LOGGER.info("renamed device %s to %r", device_id, name)
        return device

    async def touch(self, device_id: str) -> None:
        """Record that a device was just seen (after a successful authentication)."""
        async with self._lock:
            device = self._devices.get(device_id)
            if device is None:
                return
            await self._save({**self._devices, device_id: replace(device, last_seen=self._clock())})

    # --- pairing -----------------------------------------------------------------------------

    def start_pairing(self) -> PairingWindow:
        """Open (or reopen, with a new code) the pairing window and log its code."""
        self._window = PairingWindow(
            code=f"{secrets.randbelow(1_000_000):06d}",
            expires_at=self._clock() + timedelta(seconds=self._pairing_seconds),
            attempts_left=self._max_attempts,
        )
        _LOGGER.info(
            "Pairing open until %s: enter code %s in the Peerwatch app",
            iso(self._window.expires_at),
            self._window.code,
        )
        return self._window

    def pairing_window(self) -> PairingWindow | None:
        """Return the open pairing window, or None (closing it if it expired)."""
        if self._window is not None and self._clock() >= self._window.expires_at:
            self._window = None
        return self._window

    def record_failed_attempt(self) -> int:
        """Count a wrong code; return the attempts left (0: the window is now closed)."""
        window = self.pairing_window()
        if window is None:
            return 0
        left = window.attempts_left - 1
        self._window = replace(window, attempts_left=left) if left > 0 else None
        if left <= 0:
            _LOGGER.warning("pairing window closed after %d wrong codes", self._max_attempts)
        return max(left, 0)

    async def complete_pairing(self, name: str) -> Device:
        """Pair a new device named `name` (the code was checked); the window closes.

        Raises `PairingError` when no window is open, `ValueError` for a bad name.
        """
        name = _check_name(name)
        async with self._lock:
            if self.pairing_window() is None:
                msg = "no pairing window is open"
                raise PairingError(msg)
            self._window = None
            device = Device(
                id=secrets.token_hex(8),
                name=name,
                key=secrets.token_bytes(KEY_BYTES),
                created_at=self._clock(),
            )
            await self._save({**self._devices, device.id: device})
        _LOGGER.info("paired device %s (%s)", device.id, name)
        return device
