"""Diagnostics: the entry (token redacted), the edge's state and the push status."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_TOKEN
from homeassistant.core import HomeAssistant

from .coordinator import PeerwatchConfigEntry

TO_REDACT = {CONF_TOKEN, "peer_id"}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: PeerwatchConfigEntry
) -> dict[str, Any]:
    """Return what helps debugging, without secrets."""
    coordinator = entry.runtime_data
    data = coordinator.data
    return {
        "entry": async_redact_data(
            {"data": dict(entry.data), "options": dict(entry.options)}, TO_REDACT
        ),
        "runtime": coordinator.diagnostics(),
        "info": async_redact_data(asdict(data.info), TO_REDACT),
        "metrics": asdict(data.metrics),
        "paired_devices": [asdict(d) for d in data.devices],
        "open_events": [asdict(e) for e in data.open_events.values()],
    }
