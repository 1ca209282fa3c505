"""The integration's manifest and hacs.json are valid for HA 2025.4 and HACS."""

from __future__ import annotations

import json

from awesomeversion import AwesomeVersion
from homeassistant.core import HomeAssistant
from homeassistant.loader import async_get_integration

from custom_components.peerwatch.const import DOMAIN
from tests.support import REPO

MANIFEST = REPO / "custom_components" / DOMAIN / "manifest.json"
HACS_KEYS = {
    "name",
    "content_in_root",
    "zip_release",
    "filename",
    "hide_default_branch",
    "country",
    "homeassistant",
    "hacs",
    "persistent_directory",
}


async def test_home_assistant_loads_the_integration(hass: HomeAssistant) -> None:
    integration = await async_get_integration(hass, DOMAIN)
    assert integration.domain == DOMAIN
    assert integration.version == AwesomeVersion("0.1.0")
    assert integration.config_flow is True
    assert not integration.is_built_in


def test_manifest_follows_hassfest_and_hacs_rules() -> None:
    manifest = json.loads(MANIFEST.read_text())
    for key in (
        "domain",
        "name",
        "version",
        "documentation",
        "issue_tracker",
        "codeowners",
        "iot_class",
    ):
        assert manifest.get(key), key
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:]), "hassfest wants domain, name, then alphabetical keys"
    assert AwesomeVersion(manifest["version"]).valid
    assert manifest["iot_class"] in {"local_push", "local_polling"}


def test_hacs_json_matches_its_schema() -> None:
    hacs = json.loads((REPO / "hacs.json").read_text())
    assert hacs["name"] == "Peerwatch"
    assert set(hacs) <= HACS_KEYS, "HACS rejects unknown keys"
    assert AwesomeVersion(hacs["homeassistant"]) >= AwesomeVersion("2025.4.0")
    assert (REPO / "README.md").is_file()
