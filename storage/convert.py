"""Rows <-> engine records: enums as their string values, Decimals and None kept exactly.

Each record maps to a plain ``dict`` of column values (what ``insert().values`` takes)
and back from an ORM row, so repositories never copy fields by hand. One generic pair
does it for every record: how a column reads back follows from the record's field type
(an enum, a Decimal, a tuple, a dict), so a new field needs no new line here.
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar

import msgspec

from engine.domain.records import PnlSnapshotRecord

Values = dict[str, Any]
Reader = Callable[[Any], Any]
R = TypeVar("R", bound=msgspec.Struct)


def _dec(value: Decimal | None) -> Decimal | None:
    """Normalise the column scale away so ``Decimal("1.5")`` reads back as ``1.5``."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return Decimal(text)


def _iso_day(value: date | None) -> str:
    """A ``date`` column as the record's ISO text ("" when not stored)."""
    return value.isoformat() if value is not None else ""


def _optional(read: Reader) -> Reader:
    return lambda value: None if value is None else read(value)


def _reader(hint: Any) -> Reader | None:
    """How a column reads back into a field of type ``hint``; None: as it is."""
    args = [arg for arg in typing.get_args(hint) if arg is not type(None)]
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        inner = _reader(args[0]) if len(args) == 1 else None
        return inner if inner is None or args[0] is Decimal else _optional(inner)
    origin = typing.get_origin(hint) or hint
    if origin is Decimal:
        return _dec
    if isinstance(origin, type) and issubclass(origin, enum.Enum):
        return origin
    if origin is tuple:
        return lambda value: tuple(value or ())
    if origin is dict:
        return lambda value: dict(value or {})
    if origin is bool:
        return bool
    return None


class _Mapping:
    """One record type's fields, with the reader of each column built once."""

    def __init__(self, record_type: type, overrides: dict[str, Reader] | None = None) -> None:
        self.record_type = record_type
        fields = msgspec.structs.fields(record_type)
        self.readers = {field.name: _reader(field.type) for field in fields}
        self.readers.update(overrides or {})

    def from_row(self, row: Any) -> Any:
        values: Values = {}
        for name, read in self.readers.items():
            value = getattr(row, name)
            values[name] = value if read is None else read(value)
        return self.record_type(**values)


def _values(record: Any) -> Values:
    """Struct fields as column values: StrEnum members become plain strings, tuples
    lists and dicts copies (JSON columns)."""
    values: Values = {}
    for name, value in msgspec.structs.asdict(record).items():
        if isinstance(value, str):
            value = str(value)
        elif isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, dict):
            value = dict(value)
        values[name] = value
    return values


# Columns that do not read back by their field type alone.
_OVERRIDES: dict[type, dict[str, Reader]] = {
    PnlSnapshotRecord: {"trading_day": _iso_day, "event_ts": lambda value: value or 0}
}


@cache
def _mapping(record_type: type) -> _Mapping:
    return _Mapping(record_type, _OVERRIDES.get(record_type))


def row_reader(record_type: type[R]) -> Callable[[Any], R]:
    """What turns a row into the engine record of ``record_type`` (built once per type)."""
    return typing.cast(Callable[[Any], R], _mapping(record_type).from_row)


def record_values(record: Any) -> Values:
    """The column values that store ``record``."""
    values = _values(record)
    if isinstance(record, PnlSnapshotRecord):
        day = record.trading_day
        values["trading_day"] = date.fromisoformat(day) if day else None
    return values
