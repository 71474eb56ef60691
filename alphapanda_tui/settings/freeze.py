"""``ALPHAPANDA_EXECUTION__FREEZE_QUANTITIES``: freeze-quantity overrides read from one env value.

Written as ``NFO:NIFTY=1800,NFO:BANKNIFTY=600`` (or a JSON object), so a trader can follow
an NSE revision the day it takes effect without waiting for a release.
"""

from __future__ import annotations

from typing import Any

from alphapanda_tui.settings.pairs import pairs_table


def parse_freeze_quantities(value: Any) -> dict[str, int]:
    """``EXCHANGE:NAME=QTY`` pairs (comma-separated or a JSON object) as a table of sizes."""
    value = pairs_table(value, pair_form="EXCHANGE:NAME=QTY", example="NFO:NIFTY=1800")
    table: dict[str, int] = {}
    for key, quantity in value.items():
        name = str(key).strip().upper()
        exchange, sep, symbol = name.partition(":")
        if not (sep and exchange.isalpha() and symbol):
            raise ValueError(f"{key!r} is not EXCHANGE:NAME like NFO:NIFTY")
        table[name] = _quantity(quantity, name)
    return table


def _quantity(value: Any, name: str) -> int:
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit() or int(text) < 1:
        raise ValueError(f"the {name} freeze quantity {text!r} is not a positive whole number")
    return int(text)
