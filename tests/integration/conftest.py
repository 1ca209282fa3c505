"""Home Assistant fixtures for the integration's tests (run with the HA pytest plugin)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

# Import the repository's custom_components before HA puts its testing_config on sys.path,
# or HA finds the plugin's own empty custom_components package instead.
import custom_components.peerwatch  # noqa: F401


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> Iterator[None]:
    """Let Home Assistant load custom integrations in every test."""
    return
