"""The settings as documentation: ``.env.example``, the README table, ``config show``.

Generated from the model, so the documented names, defaults and choices cannot drift
from the real ones; unknown ``ALPHAPANDA_*`` names are found against the same list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from typing import Any, Literal, get_args, get_origin

from pydantic import (
    BaseModel,
    SecretStr,
)
from pydantic.fields import FieldInfo

from alphapanda_tui.settings.names import ENV_PREFIX, env_name
from alphapanda_tui.settings.schema import Settings
from engine.logs.redaction import mask_url_password

SECRET_MASK = "**********"


@dataclass(frozen=True, slots=True)
class SettingField:
    """One setting as the docs show it: env name, default, choices, description."""

    env: str
    path: tuple[str, ...]
    group: str
    description: str
    default: str
    choices: tuple[str, ...]
    secret: bool
    literal_default: bool = True


def setting_fields() -> list[SettingField]:
    """Every setting in model order; ``.env.example`` and the README table come from this."""
    fields: list[SettingField] = []
    for name, info in Settings.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            for sub_name, sub_info in annotation.model_fields.items():
                env_key = sub_info.alias or sub_name
                fields.append(_setting_field((name, sub_name), (name, env_key), name, sub_info))
        else:
            fields.append(_setting_field((name,), (name,), "general", info))
    return fields


def _setting_field(
    path: tuple[str, ...], env_loc: tuple[str, ...], group: str, info: FieldInfo
) -> SettingField:
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    doc_default = extra.get("doc_default")
    default = (
        str(doc_default)
        if doc_default is not None
        else format_value(info.get_default(call_default_factory=True))
    )
    return SettingField(
        env=env_name(env_loc),
        path=path,
        group=group,
        description=info.description or "",
        default=default,
        choices=_choices(info.annotation),
        secret=_mentions(info.annotation, SecretStr),
        literal_default=doc_default is None,
    )


def _choices(annotation: Any) -> tuple[str, ...]:
    if get_origin(annotation) is Literal:
        return tuple(str(arg) for arg in get_args(annotation))
    for arg in get_args(annotation):
        found = _choices(arg)
        if found:
            return found
    return ()


def _mentions(annotation: Any, kind: type) -> bool:
    return annotation is kind or any(_mentions(arg, kind) for arg in get_args(annotation))


def format_value(value: Any) -> str:
    """A setting value as it would be written in ``.env`` (secrets masked)."""
    if value is None:
        return ""
    if isinstance(value, SecretStr):
        return SECRET_MASK if value.get_secret_value() else ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(format_value(item) for item in value)
    if isinstance(value, dict):  # the MIS cut-off table, as it is written
        return ",".join(f"{key}={format_value(item)}" for key, item in value.items())
    if isinstance(value, time):
        return value.isoformat(timespec="minutes")
    return mask_url_password(str(value))  # a password inside a database or Redis URL


def setting_value(settings: Settings, field: SettingField) -> Any:
    """The effective value of ``field`` in ``settings``."""
    value: Any = settings
    for part in field.path:
        value = getattr(value, part)
    return value


def unknown_env_names(environ: Mapping[str, str]) -> list[str]:
    """``ALPHAPANDA_*`` variables that match no setting (typos are silently ignored else)."""
    known = {field.env for field in setting_fields()}
    known |= {env_name((name,)) for name in Settings.model_fields}
    return sorted(
        key
        for key in environ
        if key.upper().startswith(ENV_PREFIX)
        and not key.upper().startswith(ENV_PREFIX + "TEST_")
        and key.upper() not in known
    )
