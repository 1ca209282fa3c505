"""The integration's manifest and hacs.json are valid for HA 2025.4 and HACS."""

from __future__ import annotations

import json

import yaml
from awesomeversion import AwesomeVersion
from homeassistant.core import HomeAssistant
from homeassistant.loader import async_get_integration
from PIL import Image

from custom_components.peerwatch.const import DOMAIN
from tests.support import REPO

INTEGRATION = REPO / "custom_components" / DOMAIN
MANIFEST = INTEGRATION / "manifest.json"
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


RULES_2025_4 = {
    # bronze
    "action-setup", "appropriate-polling", "brands", "common-modules", "config-flow",
    "config-flow-test-coverage", "dependency-transparency", "docs-actions",
    "docs-high-level-description", "docs-installation-instructions", "docs-removal-instructions",
    "entity-event-setup", "entity-unique-id", "has-entity-name", "runtime-data",
    "test-before-configure", "test-before-setup", "unique-config-entry",
    # silver
    "action-exceptions", "config-entry-unloading", "docs-configuration-parameters",
    "docs-installation-parameters", "entity-unavailable", "integration-owner",
    "log-when-unavailable", "parallel-updates", "reauthentication-flow", "test-coverage",
    # gold
    "devices", "diagnostics", "discovery", "discovery-update-info", "docs-data-update",
    "docs-examples", "docs-known-limitations", "docs-supported-devices",
    "docs-supported-functions", "docs-troubleshooting", "docs-use-cases", "dynamic-devices",
    "entity-category", "entity-device-class", "entity-disabled-by-default",
    "entity-translations", "exception-translations", "icon-translations",
    "reconfiguration-flow", "repair-issues", "stale-devices",
    # platinum
    "async-dependency", "inject-websession", "strict-typing",
}  # fmt: skip


def test_quality_scale_covers_every_2025_4_rule() -> None:
    rules = yaml.safe_load((INTEGRATION / "quality_scale.yaml").read_text())["rules"]
    assert set(rules) == RULES_2025_4
    for rule, value in rules.items():
        status = value if isinstance(value, str) else value["status"]
        assert status in {"done", "todo", "exempt"}, rule
        if status == "exempt":
            assert value["comment"], f"{rule}: exempt needs a comment"


def test_services_have_strings_and_icons() -> None:
    services = yaml.safe_load((INTEGRATION / "services.yaml").read_text())
    strings = json.loads((INTEGRATION / "translations" / "en.json").read_text())
    icons = json.loads((INTEGRATION / "icons.json").read_text())
    assert set(services) == set(strings["services"]) == set(icons["services"])
    for name, service in services.items():
        assert set(service["fields"]) == set(strings["services"][name]["fields"]), name


def test_entity_translation_keys_have_names_and_icons() -> None:
    strings = json.loads((INTEGRATION / "translations" / "en.json").read_text())["entity"]
    icons = json.loads((INTEGRATION / "icons.json").read_text())["entity"]
    for platform, keys in strings.items():
        assert set(keys) == set(icons[platform]), platform
        assert all(entry["name"] for entry in keys.values()), platform


def test_brand_images() -> None:
    """HACS's brand check: the integration ships its own brand/ folder (icons square at 256 and
    512 px, logos 128 and 256 px high, each with a dark_ variant) from scripts/make_brand.py."""
    brand = INTEGRATION / "brand"
    for prefix in ("", "dark_"):
        for name, size in (("icon", 256), ("icon@2x", 512)):
            image = Image.open(brand / f"{prefix}{name}.png")
            assert (image.size, image.mode) == ((size, size), "RGBA")
        for name, height in (("logo", 128), ("logo@2x", 256)):
            width, actual = Image.open(brand / f"{prefix}{name}.png").size
            assert actual == height
            assert width > 2 * height  # landscape: the mark and the wordmark
