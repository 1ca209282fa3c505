"""Constants for the Peerwatch integration."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Final

DOMAIN: Final = "peerwatch"
LOGGER = logging.getLogger(__package__)

CONF_LABELS: Final = "labels"
DEFAULT_LABELS: Final = ["person"]
CONF_ADDON: Final = "addon"
"""Entry data: the slug of the add-on that runs the edge (its ingress panel is the app)."""
CONF_APP_URL: Final = "app_url"
"""Option: where the Peerwatch app is served for phones (e.g. the registrar's address)."""
CONF_CATCH_UP: Final = "catch_up"
DEFAULT_CATCH_UP: Final = 10
"""Minutes: detections that started this long before a (re)connect still fire."""
LABEL_CHOICES: Final = [
    "person",
    "car",
    "bicycle",
    "motorcycle",
    "bus",
    "truck",
    "dog",
    "cat",
    "bird",
]

POLL_INTERVAL: Final = timedelta(seconds=10)
"""How often the coordinator polls while the WebSocket push is down."""
PUSH_POLL_INTERVAL: Final = timedelta(seconds=60)
"""How often it re-syncs (stats, paired devices) while the push is up."""
REPAIR_AFTER: Final = timedelta(minutes=5)
"""How long the edge may be away before a repair issue is raised."""
SNAPSHOT_URL_LIFETIME: Final = timedelta(days=1)
"""How long a signed snapshot or clip URL (in bus events, notifications, media) stays valid."""
EVENTS_PAGE_SIZE: Final = 50
CATCH_UP_PAGES: Final = 5
"""At most this many pages of the timeline are read back on a (re)connect."""
STORAGE_VERSION: Final = 1
STORAGE_SAVE_DELAY: Final = 5
"""Seconds: detections already fired are written to HA storage this long after a change."""

EVENT_DETECTION: Final = "peerwatch_detection"
ISSUE_UNREACHABLE: Final = "edge_unreachable"

# Event entity types besides the configured object labels.
KIND_FACE: Final = "face"
KIND_FALL: Final = "fall"
KIND_OBJECT: Final = "object"
BASE_EVENT_TYPES: Final = ["person", KIND_FACE, KIND_FALL]

# Device trigger types, and the detection each one matches.
TRIGGER_PERSON: Final = "person_detected"
TRIGGER_FACE: Final = "face_detected"
TRIGGER_FALL: Final = "fall_detected"
TRIGGER_TYPES: Final = [TRIGGER_PERSON, TRIGGER_FACE, TRIGGER_FALL]

SERVICE_REVOKE_DEVICE: Final = "revoke_device"
SERVICE_START_PAIRING: Final = "start_pairing"
ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"
ATTR_DEVICE_ID: Final = "device_id"
