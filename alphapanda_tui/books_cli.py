"""Shared by ``orders``, ``trades`` and ``positions``: the day's books from storage, as a
plain table or JSON.

Read from storage, so they answer with or without a running engine. "The day" is the
trading day (Asia/Kolkata) of the newest record, so a paper run on a simulated date still
shows its orders. Money is printed with every decimal it has (at least two): a table
never rounds a price away.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from operator import attrgetter
from typing import Any, TypeVar

import msgspec

from engine.clock import IST, ns_to_datetime

Record = TypeVar("Record")
Column = tuple[str, Callable[[Any], object]]
ColumnSpec = str | tuple[str, str] | Column
_RIGHT = (int, Decimal)


def columns(*specs: ColumnSpec) -> list[Column]:
    """A book's columns by record field: ``"side"`` (headed by its field), ``("qty",
    "quantity")`` (a shorter heading), or a ready ``(heading, getter)``."""
    built: list[Column] = []
    for spec in specs:
        if isinstance(spec, str):
            built.append((spec, attrgetter(spec)))
        elif isinstance(spec[1], str):
            built.append((spec[0], attrgetter(spec[1])))
        else:
            built.append(spec)
    return built


def time_column(field: str, heading: str = "time") -> Column:
    """``heading`` (``time``): the record's ``field`` (ns) as Asia/Kolkata clock time."""
    stamp = attrgetter(field)
    return (heading, lambda record: clock_time(stamp(record)))


def money(value: Decimal | None) -> str:
    """``1,580.25``, ``0.0025``: grouped, never fewer than two places, never rounded."""
    if value is None:
        return "-"
    exponent = value.normalize().as_tuple().exponent
    places = max(2, -exponent) if isinstance(exponent, int) else 2
    return f"{value:,.{places}f}"


def clock_time(ts_ns: int) -> str:
    return ns_to_datetime(ts_ns, IST).strftime("%H:%M:%S") if ts_ns else "-"


def trading_day(ts_ns: int) -> date:
    return ns_to_datetime(ts_ns, IST).date()


def of_latest_day(records: Sequence[Record], ts: Callable[[Record], int]) -> list[Record]:
    """The records of the newest record's trading day, oldest first."""
    if not records:
        return []
    day = trading_day(max(ts(r) for r in records))
    return sorted((r for r in records if trading_day(ts(r)) == day), key=ts)


def table(records: Sequence[Any], columns: Sequence[Column]) -> str:
    """Aligned columns: numbers and money to the right, text to the left."""
    cells = [[_cell(get(r)) for _, get in columns] for r in records]
    right = [bool(records) and isinstance(get(records[0]), _RIGHT) for _, get in columns]
    widths = [
        max([len(name), *(len(row[i]) for row in cells)]) for i, (name, _) in enumerate(columns)
    ]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values, widths, right, strict=True)
        ).rstrip()

    return "\n".join([line([name for name, _ in columns]), *(line(row) for row in cells)])


def _cell(value: object) -> str:
    if isinstance(value, Decimal):
        return money(value)
    if value is None:
        return "-"
    return str(getattr(value, "value", value))


def as_json(records: Sequence[Any]) -> str:
    """Raw fields for scripts; money as exact decimal strings."""
    return json.dumps(msgspec.to_builtins(list(records)), indent=2)


def show(records: Sequence[Any], columns: Sequence[Column], *, json_out: bool, empty: str) -> int:
    if json_out:
        print(as_json(records))
    elif not records:
        print(empty)
    else:
        print(table(records, columns))
    return 0


async def read(settings: Any, read_store: Callable[[Any], Any]) -> Any:
    """``read_store(store)`` on the configured store, closed afterwards."""
    from alphapanda_tui.commands.control import open_store

    store = await open_store(settings)
    try:
        return await read_store(store)
    finally:
        await store.aclose()
