"""Money as a trader reads it, in plain text: one formatter for the console and the CLI.

The console's tables and ``alphapanda status`` print the same figures the same way
(two decimals, thousands grouped, profit and loss with an explicit sign), so a trader
comparing the screen with a script's output never sees two spellings of one amount.
Pure string functions, so the engine, widgets and the CLI can all import them.
"""

from __future__ import annotations

from decimal import Decimal

UNKNOWN = "—"


def amount(value: Decimal | None, places: int = 2) -> str:
    """``123,456.70``; '—' when unknown."""
    if value is None:
        return UNKNOWN
    return f"{value:,.{places}f}"


def signed_amount(value: Decimal | None) -> str:
    """``+1,234.50`` / ``-2,019.40`` / ``+0.00``: the sign says profit or loss without colour."""
    if value is None:
        return UNKNOWN
    return f"{value:+,.2f}"


def inr(value: Decimal) -> str:
    """``₹1,52,340.00``: rupees grouped in lakhs and crores, as Zerodha's screens show them."""
    sign = "-" if value < 0 else ""
    whole, _, paise = f"{abs(value):.2f}".partition(".")
    head, tail = whole[:-3], whole[-3:]
    groups: list[str] = []
    while len(head) > 2:
        groups.insert(0, head[-2:])
        head = head[:-2]
    if head:
        groups.insert(0, head)
    return f"{sign}₹{','.join([*groups, tail])}.{paise}"
