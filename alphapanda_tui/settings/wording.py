"""Bad settings in words: one line naming the setting by its env name, exit 2.

pydantic's errors name a location (``("bus", "backend")``) and may echo a secret; here
they become ``invalid setting ALPHAPANDA_BUS__BACKEND: ... (got 'x')`` with secrets and
URL passwords never shown.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ValidationError,
)
from pydantic_settings import SettingsError

from alphapanda_tui.errors import ConfigError
from alphapanda_tui.settings.names import env_name
from alphapanda_tui.settings.schema import Settings
from engine.logs.redaction import mask_url_password


def _is_secret(loc: tuple[Any, ...]) -> bool:
    text = " ".join(str(part) for part in loc).lower()
    return any(word in text for word in ("secret", "password", "token"))


def describe_validation_error(exc: ValidationError) -> str:
    """The first error as ``invalid setting ENV_NAME: what is wrong (got 'value')``."""
    errors = exc.errors()
    first = errors[0]
    loc = tuple(first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    message = message[:1].lower() + message[1:]
    if first["type"] == "extra_forbidden":
        message = "not a setting (see .env.example for the names)"
    loc = _field_named_first(loc, message)
    got = first.get("input")
    detail = ""
    if not _is_secret(loc) and isinstance(got, str | int | float | Decimal):
        shown = mask_url_password(got) if isinstance(got, str) else got
        detail = f" (got {shown!r})"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    name = env_name(loc) if loc else "settings"
    return f"invalid setting {name}: {message}{detail}{more}"


def _field_named_first(loc: tuple[Any, ...], message: str) -> tuple[Any, ...]:
    """A group's cross-field error ("retry_base_delay_s (10) is above ...") names its field."""
    if len(loc) != 1 or loc[0] not in Settings.model_fields:
        return loc
    group = Settings.model_fields[loc[0]].annotation
    first_word = message.split(" ", 1)[0]
    if (
        isinstance(group, type)
        and issubclass(group, BaseModel)
        and first_word in group.model_fields
    ):
        return (*loc, first_word)
    return loc


def load_settings(**overrides: Any) -> Settings:
    """Build settings from overrides (CLI flags) > env > ``.env`` > defaults.

    Raises ``ConfigError`` with one line that names the bad setting by its env name.
    """
    clean = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**clean)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc)) from None
    except SettingsError as exc:
        raise ConfigError(_describe_settings_error(exc)) from None
    except UnicodeDecodeError as exc:  # the only file read here is .env
        raise ConfigError(
            f"cannot read {Path('.env').absolute()}: not UTF-8 text "
            f"(byte 0x{exc.object[exc.start]:02x} at offset {exc.start})"
        ) from None


def _describe_settings_error(exc: SettingsError) -> str:
    """pydantic-settings fails before validation when a group is set as one bad value."""
    match = re.search(r'field "(\w+)"', str(exc))
    if not match:
        return f"invalid settings: {exc}"
    group = match.group(1)
    return (
        f"invalid setting {env_name((group,))}: expected a JSON object; "
        f"set {env_name((group, 'field'))[:-5]}<FIELD> instead"
    )
