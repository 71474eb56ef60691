"""Configuration: one ``Settings`` built at the edge from env, ``.env`` and CLI flags.

The env names (``ALPHAPANDA_MODE``, ``ALPHAPANDA_BUS__BACKEND``, ...) are a public
contract; ``.env.example`` and the README table are generated from this model so they
cannot drift. Settings are passed explicitly; there is no global settings object.

Where things live: ``groups`` (one model per ``ALPHAPANDA_<GROUP>__*``), ``schema`` (the
root ``Settings``), ``names`` (env names), ``wording`` (``load_settings`` and one-line
errors), ``docs`` (``.env.example``/README/``config show``), ``check`` (checks against the
environment, the registry and the strategies file), and the parsers ``cutoffs``,
``freeze`` and ``urls``.
"""

from __future__ import annotations

from alphapanda_tui.settings.docs import (
    SECRET_MASK,
    SettingField,
    format_value,
    setting_fields,
    setting_value,
    unknown_env_names,
)
from alphapanda_tui.settings.names import ENV_PREFIX, NESTED_DELIMITER, env_name
from alphapanda_tui.settings.schema import Settings
from alphapanda_tui.settings.wording import describe_validation_error, load_settings

__all__ = [
    "ENV_PREFIX",
    "NESTED_DELIMITER",
    "SECRET_MASK",
    "SettingField",
    "Settings",
    "describe_validation_error",
    "env_name",
    "format_value",
    "load_settings",
    "setting_fields",
    "setting_value",
    "unknown_env_names",
]
