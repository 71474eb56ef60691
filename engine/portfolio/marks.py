"""The market a P&L snapshot was marked at, as it is stored with the snapshot.

Each instrument's last price and previous close, by instrument token. A restart reads
them back so the book values every position as it did before the stop (not at cost
until the first tick), the day's P&L keeps its reference (the previous close) and the
simulated market carries on from those prices instead of its bundled defaults. Stored
as JSON: token and prices as strings (``{"408065": ["3400.50", "3390.00"]}``), a close
``None`` where the book had none.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

StoredMarks = dict[str, list[str | None]]


def stored_marks(marks: Mapping[int, Decimal], closes: Mapping[int, Decimal]) -> StoredMarks:
    """``marks`` (last prices) and ``closes`` (previous closes) as a snapshot stores them."""
    stored: StoredMarks = {}
    for token, price in marks.items():
        close = closes.get(token)
        stored[str(token)] = [str(price), None if close is None else str(close)]
    return stored


def read_marks(
    stored: Mapping[str, list[str | None]],
) -> tuple[dict[int, Decimal], dict[int, Decimal]]:
    """The last prices and previous closes of a stored snapshot, by instrument token; an
    entry that does not read as a token and a price is left out (not guessed)."""
    marks: dict[int, Decimal] = {}
    closes: dict[int, Decimal] = {}
    for token, prices in stored.items():
        try:
            key = int(token)
            last = Decimal(str(prices[0]))
            close = None if len(prices) < 2 or prices[1] is None else Decimal(str(prices[1]))
        except (ArithmeticError, IndexError, TypeError, ValueError):
            continue
        if not last.is_finite() or last <= 0:
            continue
        marks[key] = last
        if close is not None and close.is_finite() and close > 0:
            closes[key] = close
    return marks, closes
