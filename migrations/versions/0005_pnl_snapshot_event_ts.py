"""P&L snapshots keep their time on the market's clock beside the process's.

On the simulated market ``alphapanda status`` prints a snapshot's time as the console
shows it, on the market's clock (the newest tick or fill the portfolio had seen), not the
wall-clock time the row was written. Rows stored before this revision keep NULL (status
then says the time is the wall clock's). Downgrading drops only this column.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pnl_snapshots") as batch:
        batch.add_column(sa.Column("event_ts", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pnl_snapshots") as batch:
        batch.drop_column("event_ts")
