"""Constants for the Peerwatch integration."""

from __future__ import annotations

import logging
from typing import Final

DOMAIN: Final = "peerwatch"
LOGGER = logging.getLogger(__package__)
