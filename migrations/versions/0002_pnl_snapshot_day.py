"""P&L snapshots keep the trading day's figures beside the overall ones.

``alphapanda status`` and a restarted console show day P&L from the last stored
snapshot. Rows stored before this revision keep NULL day columns: a reader says the day
figures are not stored rather than showing the overall ones as the day's. Downgrading
drops only these columns (the overall figures stay).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As in 0001: NUMERIC(18, 4), or fixed-point text on SQLite (which has no decimal type).
MONEY = sa.Numeric(18, 4).with_variant(sa.String(24), "sqlite")
DAY_MONEY = ("day_realized_pnl", "day_unrealized_pnl", "day_charges")


def upgrade() -> None:
    with op.batch_alter_table("pnl_snapshots") as batch:
        batch.add_column(sa.Column("trading_day", sa.Date(), nullable=True))
        for name in DAY_MONEY:
            batch.add_column(sa.Column(name, MONEY, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pnl_snapshots") as batch:
        for name in reversed(DAY_MONEY):
            batch.drop_column(name)
        batch.drop_column("trading_day")
