"""``Money``: a Decimal column that round-trips exactly on PostgreSQL and SQLite.

PostgreSQL stores ``NUMERIC(18, 4)``. SQLite has no decimal type: a NUMERIC column
turns ``"99999999999999.9999"`` into a float and keeps 15 digits, so on SQLite the
value is stored as fixed-point text (``"2450.0500"``) instead. Values are rounded to
4 places (half away from zero, as PostgreSQL does) and limited to 14 integer digits on
both engines, so the two behave the same.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Numeric, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

SCALE = Decimal("0.0001")
LIMIT = Decimal(10) ** 14


class Money(TypeDecorator[Decimal]):
    """Exact 4-place Decimals on both engines; ``None`` stays ``None``."""

    impl = Numeric(18, 4, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(24))
        return dialect.type_descriptor(Numeric(18, 4, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        amount = Decimal(value).quantize(SCALE, rounding=ROUND_HALF_UP)
        if abs(amount) >= LIMIT:
            raise ValueError(f"money value {value} exceeds NUMERIC(18, 4)")
        return format(amount, "f") if dialect.name == "sqlite" else amount

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return value if isinstance(value, Decimal) else Decimal(str(value))
