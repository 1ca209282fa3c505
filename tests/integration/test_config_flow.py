"""Every config flow path: user (errors → recover), hassio, reauth, reconfigure, options."""

from __future__ import annotations

from collections.abc import Iterator
from unittest.mock import MagicMock, patch

import pytest
from homeassistant.config_entries import SOURCE_HASSIO, SOURCE_USER
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.hassio import HassioServiceInfo
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.peerwatch.api import (
    PeerwatchAuthError,
    PeerwatchConnectionError,
    PeerwatchError,
)
from custom_components.peerwatch.const import (
    CONF_ADDON,
    CONF_APP_URL,
    CONF_CATCH_UP,
    CONF_LABELS,
    DOMAIN,
)

from .conftest import EDGE_ID

USER_INPUT = {CONF_HOST: " edge.local ", CONF_PORT: 8778.0, CONF_TOKEN: "tok"}
ENTRY_DATA = {CONF_HOST: "edge.local", CONF_PORT: 8778, CONF_TOKEN: "tok"}
# The Supervisor's discovery message (faked: no Supervisor runs here).
DISCOVERY = HassioServiceInfo(
    config={"host": "local-peerwatch", "port": 8778, "token": "addon-token", "addon": "Peerwatch"},
    name="Peerwatch edge",
    slug="local_peerwatch",
    uuid="5f1c0a2e",
)

pytestmark = pytest.mark.usefixtures("mock_client")


@pytest.fixture(autouse=True)
def skip_setup() -> Iterator[MagicMock]:
    """Do not set the created entries up (setup is tested in test_init)."""
    with patch("custom_components.peerwatch.async_setup_entry", return_value=True) as setup:
        yield setup


async def test_user_flow(hass: HomeAssistant, mock_client: MagicMock) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], USER_INPUT)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Home edge"
    assert result["data"] == ENTRY_DATA
    assert result["options"] == {CONF_LABELS: ["person"]}
    assert result["result"].unique_id == EDGE_ID


@pytest.mark.parametrize(
    ("error", "field", "key"),
    [
        (PeerwatchConnectionError("refused"), CONF_HOST, "cannot_connect"),
        (PeerwatchAuthError("401"), CONF_TOKEN, "invalid_auth"),
        (PeerwatchError("HTTP 500"), "base", "unknown"),
        (ValueError("bad json"), "base", "unknown"),
    ],
)
async def test_user_flow_errors_recover(
    hass: HomeAssistant, mock_client: MagicMock, error: Exception, field: str, key: str
) -> None:
    info = mock_client.info.return_value
    mock_client.info.side_effect = error
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}, data=None
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], USER_INPUT)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {field: key}

    mock_client.info.side_effect = None
    mock_client.info.return_value = info
    result = await hass.config_entries.flow.async_configure(result["flow_id"], USER_INPUT)
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_user_flow_already_configured_updates_address(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], USER_INPUT)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert mock_config_entry.data == ENTRY_DATA


async def test_hassio_flow(hass: HomeAssistant, mock_client: MagicMock) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_HASSIO}, data=DISCOVERY
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "hassio_confirm"
    assert result["description_placeholders"] == {"addon": "Peerwatch edge"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Peerwatch edge"
    assert result["data"] == {
        CONF_HOST: "local-peerwatch",
        CONF_PORT: 8778,
        CONF_TOKEN: "addon-token",
        CONF_ADDON: "local_peerwatch",  # its ingress panel is where the app is
    }
    assert result["result"].unique_id == EDGE_ID
    mock_client.info.assert_awaited()


async def test_hassio_flow_updates_existing_entry(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_HASSIO}, data=DISCOVERY
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert mock_config_entry.data[CONF_HOST] == "local-peerwatch"
    assert mock_config_entry.data[CONF_TOKEN] == "addon-token"
    assert mock_config_entry.data[CONF_ADDON] == "local_peerwatch"


async def test_hassio_flow_edge_unreachable(hass: HomeAssistant, mock_client: MagicMock) -> None:
    mock_client.info.side_effect = PeerwatchConnectionError("refused")
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_HASSIO}, data=DISCOVERY
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "cannot_connect"


@pytest.mark.parametrize(
    "config",
    [
        {"host": "local-peerwatch", "port": 8778},
        {"host": "x", "port": "http", "token": "secret-tok"},
    ],
)
async def test_hassio_flow_bad_discovery(
    hass: HomeAssistant, config: dict[str, object], caplog: pytest.LogCaptureFixture
) -> None:
    """A discovery the flow cannot use is logged by its keys: never the token in it."""
    discovery = HassioServiceInfo(config=config, name="Peerwatch", slug="local_pw", uuid="1")
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_HASSIO}, data=discovery
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "invalid_discovery_info"
    assert "(it has: host, port" in caplog.text
    assert "secret-tok" not in caplog.text


async def test_reauth_flow(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, mock_client: MagicMock
) -> None:
    mock_config_entry.add_to_hass(hass)
    result = await mock_config_entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    assert result["description_placeholders"] == {"name": "Home edge"}

    mock_client.info.side_effect = PeerwatchAuthError("401")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: "still-wrong"}
    )
    assert result["errors"] == {CONF_TOKEN: "invalid_auth"}

    mock_client.info.side_effect = None
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: "new-token"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert mock_config_entry.data[CONF_TOKEN] == "new-token"
    assert mock_config_entry.data[CONF_HOST] == "192.0.2.5"


async def test_reconfigure_flow(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, mock_client: MagicMock
) -> None:
    mock_config_entry.add_to_hass(hass)
    result = await mock_config_entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"

    mock_client.info.side_effect = PeerwatchConnectionError("refused")
    result = await hass.config_entries.flow.async_configure(result["flow_id"], USER_INPUT)
    assert result["errors"] == {CONF_HOST: "cannot_connect"}

    mock_client.info.side_effect = None
    result = await hass.config_entries.flow.async_configure(result["flow_id"], USER_INPUT)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert mock_config_entry.data == ENTRY_DATA


async def test_reconfigure_to_another_edge_is_refused(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, mock_client: MagicMock
) -> None:
    mock_config_entry.add_to_hass(hass)
    info = mock_client.info.return_value
    mock_client.info.return_value = type(info)(**{**info.__dict__, "id": "another-edge"})
    result = await mock_config_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], USER_INPUT)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_edge"
    assert mock_config_entry.data[CONF_HOST] == "192.0.2.5"


async def test_options_flow(hass: HomeAssistant, mock_config_entry: MockConfigEntry) -> None:
    mock_config_entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(mock_config_entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_LABELS: ["  "], CONF_CATCH_UP: 10}
    )
    assert result["errors"] == {CONF_LABELS: "no_labels"}

    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_LABELS: ["Person", "car", "giraffe", "car"],
            CONF_CATCH_UP: 30.0,
            CONF_APP_URL: " https://peer.example.org/ ",
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert mock_config_entry.options == {
        CONF_LABELS: ["car", "giraffe", "person"],
        CONF_CATCH_UP: 30,
        CONF_APP_URL: "https://peer.example.org/",
    }
    result = await hass.config_entries.options.async_init(mock_config_entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_LABELS: ["person"], CONF_CATCH_UP: 10}
    )
    assert CONF_APP_URL not in mock_config_entry.options
