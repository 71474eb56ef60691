"""Position protections: each position's stop-loss, target and trailing stop.

The engine keeps them (``engine.protection``) and must find them again after a restart,
with whether one already fired, so an exit is never sent twice. Downgrading drops the
table: the positions themselves stay, unprotected.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As in 0001: SQLite autoincrements only an INTEGER PRIMARY KEY; PostgreSQL gets BIGINT.
ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# As in 0001: NUMERIC(18, 4), or fixed-point text on SQLite (which has no decimal type).
MONEY = sa.Numeric(18, 4).with_variant(sa.String(24), "sqlite")
PRICES = (
    "stop_price",
    "stop_pct",
    "target_price",
    "target_pct",
    "trail_amount",
    "trail_pct",
    "best_price",
)


def upgrade() -> None:
    op.create_table(
        "position_protections",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("broker", sa.String(length=16), nullable=False),
        sa.Column("strategy", sa.String(length=64), nullable=False),
        sa.Column("instrument_token", sa.BigInteger(), nullable=False),
        sa.Column("symbol", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.Integer(), nullable=False),
        *(sa.Column(name, MONEY, nullable=True) for name in PRICES),
        sa.Column("fired", sa.String(length=32), nullable=False),
        sa.Column("fired_ts", sa.BigInteger(), nullable=False),
        sa.Column("exit_signal_id", sa.String(length=64), nullable=False),
        sa.Column("operator", sa.String(length=128), nullable=False),
        sa.Column("set_ts", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_position_protections")),
        sa.UniqueConstraint(
            "broker",
            "strategy",
            "instrument_token",
            name=op.f("uq_position_protections_broker_strategy_instrument_token"),
        ),
    )


def downgrade() -> None:
    op.drop_table("position_protections")
