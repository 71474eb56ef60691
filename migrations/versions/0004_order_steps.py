"""Each order's status history, and what a risk refusal refused.

The orders row keeps only an order's last status; ``order_steps`` keeps every status it
moved to (written with the row), so the orders book's detail shows the whole history
after a restart. A risk alert that refused a signal keeps the signal's id, side,
quantity, price and the rule's reason, so the refusal is in the books after a restart.
Downgrading drops the history table and those columns (the orders and alerts stay).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As in 0001: SQLite autoincrements only an INTEGER PRIMARY KEY; PostgreSQL gets BIGINT.
ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# As in 0001: NUMERIC(18, 4), or fixed-point text on SQLite (which has no decimal type).
MONEY = sa.Numeric(18, 4).with_variant(sa.String(24), "sqlite")
REFUSED = (  # risk_alerts columns: what a refusal refused (NULL on other alerts)
    ("signal_id", sa.String(length=64)),
    ("side", sa.String(length=8)),
    ("quantity", sa.Integer()),
    ("price", MONEY),
    ("reason", sa.Text()),
)


def upgrade() -> None:
    op.create_table(
        "order_steps",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("broker", sa.String(length=16), nullable=False),
        sa.Column("client_order_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("filled_quantity", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("step_ts", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_steps")),
        sa.UniqueConstraint(
            "client_order_id",
            "status",
            "filled_quantity",
            name=op.f("uq_order_steps_client_order_id_status_filled_quantity"),
        ),
    )
    with op.batch_alter_table("risk_alerts") as batch:
        for name, kind in REFUSED:
            batch.add_column(sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("risk_alerts") as batch:
        for name, _ in reversed(REFUSED):
            batch.drop_column(name)
    op.drop_table("order_steps")
