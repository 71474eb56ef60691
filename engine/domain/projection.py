"""Build one record type from the same-named fields of another.

Stored rows, bus payloads and views of one order, position or snapshot share most field
names; copying them one keyword at a time in each conversion let the copies drift apart.
``project`` copies every field the two types both declare, and the caller names only what
differs, so a field added to both types reaches every conversion.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from operator import attrgetter
from typing import Any, TypeVar

T = TypeVar("T")


def field_names(kind: type) -> tuple[str, ...]:
    """The declared fields of a msgspec Struct or dataclass type, in declaration order."""
    struct_fields = getattr(kind, "__struct_fields__", None)
    if struct_fields is not None:
        return tuple(struct_fields)
    if dataclasses.is_dataclass(kind):
        return tuple(field.name for field in dataclasses.fields(kind))
    raise TypeError(f"{kind.__name__} is neither a msgspec Struct nor a dataclass")


_SHARED: dict[tuple[type, type], tuple[str, ...]] = {}


def shared_fields(target: type, source: type) -> tuple[str, ...]:
    """The fields ``target`` declares that ``source`` declares too (worked out once a pair)."""
    names = _SHARED.get((target, source))
    if names is None:
        source_names = set(field_names(source))
        names = tuple(name for name in field_names(target) if name in source_names)
        _SHARED[(target, source)] = names
    return names


_Getter = Callable[[object], tuple[Any, ...]]
_GETTERS: dict[tuple[type, type], tuple[tuple[str, ...], _Getter]] = {}


def _values_of(names: tuple[str, ...]) -> _Getter:
    """One C-level read of all ``names`` (``attrgetter`` returns a lone value bare)."""
    if len(names) > 1:
        return attrgetter(*names)
    if names:
        one = attrgetter(names[0])
        return lambda source: (one(source),)
    return lambda source: ()


def project(target: type[T], source: object, /, **overrides: Any) -> T:
    """A ``target`` holding ``source``'s values of the fields both declare, then ``overrides``.

    Fields only ``target`` declares take ``overrides`` or their defaults; a name in
    ``overrides`` that ``target`` does not declare fails as the constructor does. Each
    order event, fill and step is built this way, so the pair's fields are read by one
    ``attrgetter`` worked out once.
    """
    pair = (target, type(source))
    entry = _GETTERS.get(pair)
    if entry is None:
        names = shared_fields(target, pair[1])
        entry = _GETTERS[pair] = (names, _values_of(names))
    names, values_of = entry
    values = dict(zip(names, values_of(source), strict=True))
    if overrides:
        values.update(overrides)
    return target(**values)
