"""P&L snapshots keep the market they were valued at: each instrument's last price and
previous close.

A restart on the same home reads them back, so the portfolio values its positions and
the day's P&L as before the stop (not at cost until the first tick) and the simulated
market carries on from those prices and closes instead of its bundled defaults. Rows
stored before this revision keep NULL (read as no marks). Downgrading drops only this
column.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pnl_snapshots") as batch:
        batch.add_column(sa.Column("marks", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pnl_snapshots") as batch:
        batch.drop_column("marks")
