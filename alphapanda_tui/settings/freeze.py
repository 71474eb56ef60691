"""``ALPHAPANDA_EXECUTION__FREEZE_QUANTITIES``: freeze-quantity overrides read from one env value.

Written as ``NFO:NIFTY=1800,NFO:BANKNIFTY=600`` (or a JSON object), so a trader can follow
an NSE revision the day it takes effect without waiting for a release.
"""

from __future__ import annotations

import json
from typing import Any


def parse_freeze_quantities(value: Any) -> dict[str, int]:
    """``EXCHANGE:NAME=QTY`` pairs (comma-separated or a JSON object) as a table of sizes."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            value = json.loads(text)
        else:
            value = dict(_pair(item) for item in text.split(",") if item.strip())
    if not isinstance(value, dict):
        raise ValueError("expected EXCHANGE:NAME=QTY pairs, e.g. NFO:NIFTY=1800")
    table: dict[str, int] = {}
    for key, quantity in value.items():
        name = str(key).strip().upper()
        exchange, sep, symbol = name.partition(":")
        if not (sep and exchange.isalpha() and symbol):
            raise ValueError(f"{key!r} is not EXCHANGE:NAME like NFO:NIFTY")
        table[name] = _quantity(quantity, name)
    return table


def _pair(item: str) -> tuple[str, str]:
    key, sep, quantity = item.partition("=")
    if not sep:
        raise ValueError(f"{item.strip()!r} is not EXCHANGE:NAME=QTY")
    return key, quantity


def _quantity(value: Any, name: str) -> int:
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit() or int(text) < 1:
        raise ValueError(f"the {name} freeze quantity {text!r} is not a positive whole number")
    return int(text)
