"""Config flow: add-on discovery, manual setup, reauth, reconfigure and options."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import ConfigFlow, ConfigFlowResult, OptionsFlow
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN
from homeassistant.core import callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.helpers.service_info.hassio import HassioServiceInfo

from .api import (
    DEFAULT_PORT,
    EdgeInfo,
    PeerwatchAuthError,
    PeerwatchClient,
    PeerwatchConnectionError,
)
from .const import (
    CONF_ADDON,
    CONF_APP_URL,
    CONF_CATCH_UP,
    CONF_LABELS,
    DEFAULT_CATCH_UP,
    DEFAULT_LABELS,
    DOMAIN,
    LABEL_CHOICES,
    LOGGER,
)
from .coordinator import PeerwatchConfigEntry

TOKEN_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
PORT_SELECTOR = NumberSelector(
    NumberSelectorConfig(min=1, max=65535, step=1, mode=NumberSelectorMode.BOX)
)


def _connection_schema(defaults: Mapping[str, Any]) -> vol.Schema:
    """The host/port/token form, prefilled with the given values."""
    return vol.Schema(
        {
            vol.Required(CONF_HOST, default=defaults.get(CONF_HOST, "")): TextSelector(),
            vol.Required(CONF_PORT, default=defaults.get(CONF_PORT, DEFAULT_PORT)): PORT_SELECTOR,
            vol.Required(CONF_TOKEN): TOKEN_SELECTOR,
        }
    )


class PeerwatchConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up a Peerwatch edge."""

    VERSION = 1

    def __init__(self) -> None:
        """Start with nothing discovered."""
        self._discovered: dict[str, Any] = {}
        self._addon = ""

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: PeerwatchConfigEntry) -> OptionsFlow:
        """Return the options flow."""
        return PeerwatchOptionsFlow()

    async def _probe(self, data: Mapping[str, Any], errors: dict[str, str]) -> EdgeInfo | None:
        """Ask the edge who it is; on failure fill `errors` and return None."""
        client = PeerwatchClient(
            async_get_clientsession(self.hass),
            data[CONF_HOST],
            int(data[CONF_PORT]),
            data[CONF_TOKEN],
        )
        try:
            return await client.info()
        except PeerwatchAuthError:
            errors[CONF_TOKEN] = "invalid_auth"
        except PeerwatchConnectionError:
            errors[CONF_HOST] = "cannot_connect"
        except Exception:
            LOGGER.exception("Unexpected error talking to the edge")
            errors["base"] = "unknown"
        return None

    @staticmethod
    def _data(user_input: Mapping[str, Any]) -> dict[str, Any]:
        """Normalise the form input for the entry."""
        return {
            CONF_HOST: str(user_input[CONF_HOST]).strip(),
            CONF_PORT: int(user_input[CONF_PORT]),
            CONF_TOKEN: user_input[CONF_TOKEN],
        }

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Set up an edge by host, port and token."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data = self._data(user_input)
            if info := await self._probe(data, errors):
                await self.async_set_unique_id(info.id, raise_on_progress=False)
                self._abort_if_unique_id_configured(updates=data)
                return self.async_create_entry(
                    title=info.name, data=data, options={CONF_LABELS: DEFAULT_LABELS}
                )
        return self.async_show_form(
            step_id="user",
            data_schema=_connection_schema(user_input or {}),
            errors=errors,
        )

    async def async_step_hassio(self, discovery_info: HassioServiceInfo) -> ConfigFlowResult:
        """Handle the edge add-on announced by the Supervisor."""
        config = discovery_info.config
        try:
            data = {
                CONF_HOST: str(config[CONF_HOST]),
                CONF_PORT: int(config[CONF_PORT]),
                CONF_TOKEN: str(config[CONF_TOKEN]),
            }
        except (KeyError, TypeError, ValueError):
            LOGGER.warning(  # the keys only: the payload holds the token
                "Ignoring an add-on discovery without host, port and token (it has: %s)",
                ", ".join(sorted(map(str, config))) or "nothing",
            )
            return self.async_abort(reason="invalid_discovery_info")
        errors: dict[str, str] = {}
        if (info := await self._probe(data, errors)) is None:
            return self.async_abort(reason="cannot_connect")
        await self.async_set_unique_id(info.id)
        self._abort_if_unique_id_configured(updates=data | {CONF_ADDON: discovery_info.slug})
        self._discovered = data | {CONF_ADDON: discovery_info.slug}
        self._addon = discovery_info.name
        self.context["title_placeholders"] = {"name": discovery_info.name}
        self.context["configuration_url"] = (
            f"homeassistant://hassio/addon/{discovery_info.slug}/info"
        )
        return await self.async_step_hassio_confirm()

    async def async_step_hassio_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask before adding the discovered edge."""
        if user_input is not None:
            return self.async_create_entry(
                title=self._addon, data=self._discovered, options={CONF_LABELS: DEFAULT_LABELS}
            )
        return self.async_show_form(
            step_id="hassio_confirm", description_placeholders={"addon": self._addon}
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The edge refused the token: ask for a new one."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Take the new token, check it, and reload the entry."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {**entry.data, CONF_TOKEN: user_input[CONF_TOKEN]}
            if info := await self._probe(data, errors):
                await self.async_set_unique_id(info.id)
                self._abort_if_unique_id_mismatch(reason="wrong_edge")
                return self.async_update_reload_and_abort(
                    entry, data_updates={CONF_TOKEN: user_input[CONF_TOKEN]}
                )
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=vol.Schema({vol.Required(CONF_TOKEN): TOKEN_SELECTOR}),
            description_placeholders={"name": entry.title},
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the edge's host, port or token."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data = self._data(user_input)
            if info := await self._probe(data, errors):
                await self.async_set_unique_id(info.id)
                self._abort_if_unique_id_mismatch(reason="wrong_edge")
                return self.async_update_reload_and_abort(entry, data_updates=data)
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=_connection_schema(user_input or entry.data),
            errors=errors,
        )


class PeerwatchOptionsFlow(OptionsFlow):
    """Choose which object labels get occupancy, count and event entities, and how far back a
    (re)connect catches up on missed detections."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show and take the labels."""
        errors: dict[str, str] = {}
        if user_input is not None:
            labels = sorted(
                {str(label).strip().lower() for label in user_input[CONF_LABELS]} - {""}
            )
            if labels:
                return self.async_create_entry(
                    data={
                        CONF_LABELS: labels,
                        CONF_CATCH_UP: int(user_input[CONF_CATCH_UP]),
                    }
                    | (
                        {CONF_APP_URL: url}
                        if (url := str(user_input.get(CONF_APP_URL, "")).strip())
                        else {}
                    )
                )
            errors[CONF_LABELS] = "no_labels"
        options = self.config_entry.options
        current = options.get(CONF_LABELS, DEFAULT_LABELS)
        return self.async_show_form(
            step_id="init",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_LABELS, default=current): SelectSelector(
                        SelectSelectorConfig(
                            options=sorted(set(LABEL_CHOICES) | set(current)),
                            multiple=True,
                            custom_value=True,
                            translation_key=CONF_LABELS,
                        )
                    ),
                    vol.Required(
                        CONF_CATCH_UP, default=options.get(CONF_CATCH_UP, DEFAULT_CATCH_UP)
                    ): NumberSelector(
                        NumberSelectorConfig(
                            min=1,
                            max=1440,
                            mode=NumberSelectorMode.BOX,
                            unit_of_measurement="min",
                        )
                    ),
                    vol.Optional(
                        CONF_APP_URL, description={"suggested_value": options.get(CONF_APP_URL)}
                    ): TextSelector(TextSelectorConfig(type=TextSelectorType.URL)),
                }
            ),
            errors=errors,
        )
