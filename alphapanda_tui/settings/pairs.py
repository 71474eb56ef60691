"""One env value read as a table: ``KEY=VALUE`` pairs, comma-separated, or a JSON object.

The MIS cut-offs and the freeze quantities are both written this way, so a trader can
change one entry without restating the rest; they differ only in what a key and a value are.
"""

from __future__ import annotations

import json
from typing import Any


def pairs_table(value: Any, *, pair_form: str, example: str) -> dict[Any, Any]:
    """``value`` as a dict: a JSON object, ``KEY=VALUE,...`` text, or already a dict.

    ``pair_form`` (``SEGMENT=HH:MM``) and ``example`` word the errors; the caller checks
    each key and value.
    """
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            value = json.loads(text)
        else:
            value = dict(_pair(item, pair_form) for item in text.split(",") if item.strip())
    if not isinstance(value, dict):
        raise ValueError(f"expected {pair_form} pairs, e.g. {example}")
    return value


def _pair(item: str, pair_form: str) -> tuple[str, str]:
    key, sep, entry = item.partition("=")
    if not sep:
        raise ValueError(f"{item.strip()!r} is not {pair_form}")
    return key, entry
