"""Shared helpers: map edge errors on user actions to translated Home Assistant errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from functools import wraps
from typing import Any, Concatenate

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from .api import (
    PeerwatchAuthError,
    PeerwatchConnectionError,
    PeerwatchError,
    PeerwatchNotFoundError,
)
from .const import DOMAIN
from .entity import PeerwatchEntity


def translate_errors(
    hass: HomeAssistant, entry: ConfigEntry, err: PeerwatchError
) -> HomeAssistantError:
    """Return the translated HA error for an edge error; a refused token starts reauth."""
    if isinstance(err, PeerwatchAuthError):
        entry.async_start_reauth(hass)
        key = "invalid_auth"
    elif isinstance(err, PeerwatchConnectionError):
        key = "cannot_connect"
    elif isinstance(err, PeerwatchNotFoundError):
        key = "not_found"
    else:
        key = "edge_error"
    return HomeAssistantError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders={"error": str(err)}
    )


def edge_action[E: PeerwatchEntity, **P](
    func: Callable[Concatenate[E, P], Awaitable[Any]],
) -> Callable[Concatenate[E, P], Coroutine[Any, Any, None]]:
    """Decorate an entity action that calls the edge: translate its errors."""

    @wraps(func)
    async def handler(self: E, *args: P.args, **kwargs: P.kwargs) -> None:
        try:
            await func(self, *args, **kwargs)
        except PeerwatchError as err:
            coordinator = self.coordinator
            raise translate_errors(coordinator.hass, coordinator.config_entry, err) from err

    return handler
