"""Initial schema: every table the engine stores, built on an empty database.

Plain CREATE/DROP statements only, so it runs on SQLite and PostgreSQL alike and
``downgrade base`` leaves an empty database.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite autoincrements only an INTEGER PRIMARY KEY; PostgreSQL gets BIGINT.
ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Exact Decimals: NUMERIC(18, 4), or fixed-point text on SQLite (which has no decimal type).
MONEY = sa.Numeric(18, 4).with_variant(sa.String(24), "sqlite")


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("audit_ts", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_audit_ts"), "audit_log", ["audit_ts"])

    op.create_table(
        "fills",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("broker", sa.String(length=16), nullable=False),
        sa.Column("trade_id", sa.String(length=64), nullable=False),
        sa.Column("client_order_id", sa.String(length=32), nullable=False),
        sa.Column("strategy", sa.String(length=64), nullable=False),
        sa.Column("instrument_token", sa.BigInteger(), nullable=False),
        sa.Column("symbol", sa.String(length=64), nullable=False),
        sa.Column("side", sa.String(length=8), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("price", MONEY, nullable=False),
        sa.Column("charges", MONEY, nullable=False),
        sa.Column("fill_ts", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fills")),
        sa.UniqueConstraint("broker", "trade_id", name=op.f("uq_fills_broker_trade_id")),
    )
    op.create_index(op.f("ix_fills_client_order_id"), "fills", ["client_order_id"])

    op.create_table(
        "instruments",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("instrument_token", sa.BigInteger(), nullable=False),
        sa.Column("exchange_token", sa.BigInteger(), nullable=False),
        sa.Column("tradingsymbol", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("exchange", sa.String(length=16), nullable=False),
        sa.Column("segment", sa.String(length=32), nullable=False),
        sa.Column("instrument_type", sa.String(length=16), nullable=False),
        sa.Column("tick_size", MONEY, nullable=False),
        sa.Column("lot_size", sa.Integer(), nullable=False),
        sa.Column("last_price", MONEY, nullable=False),
        sa.Column("expiry", sa.Date(), nullable=True),
        sa.Column("strike", MONEY, nullable=False),
        sa.Column("freeze_quantity", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instruments")),
        sa.UniqueConstraint(
            "exchange", "tradingsymbol", name=op.f("uq_instruments_exchange_tradingsymbol")
        ),
    )
    op.create_index(op.f("ix_instruments_instrument_token"), "instruments", ["instrument_token"])

    op.create_table(
        "orders",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("client_order_id", sa.String(length=32), nullable=False),
        sa.Column("broker", sa.String(length=16), nullable=False),
        sa.Column("strategy", sa.String(length=64), nullable=False),
        sa.Column("signal_id", sa.String(length=64), nullable=False),
        sa.Column("instrument_token", sa.BigInteger(), nullable=False),
        sa.Column("symbol", sa.String(length=64), nullable=False),
        sa.Column("side", sa.String(length=8), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("order_type", sa.String(length=8), nullable=False),
        sa.Column("product", sa.String(length=8), nullable=False),
        sa.Column("validity", sa.String(length=8), nullable=False),
        sa.Column("price", MONEY, nullable=True),
        sa.Column("trigger_price", MONEY, nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("filled_quantity", sa.Integer(), nullable=False),
        sa.Column("average_price", MONEY, nullable=True),
        sa.Column("broker_order_id", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_ts", sa.BigInteger(), nullable=False),
        sa.Column("updated_ts", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("client_order_id", name=op.f("uq_orders_client_order_id")),
    )
    op.create_index("ix_orders_broker_status", "orders", ["broker", "status"])

    op.create_table(
        "pnl_snapshots",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("broker", sa.String(length=16), nullable=False),
        sa.Column("snapshot_ts", sa.BigInteger(), nullable=False),
        sa.Column("realized_pnl", MONEY, nullable=False),
        sa.Column("unrealized_pnl", MONEY, nullable=False),
        sa.Column("charges", MONEY, nullable=False),
        sa.Column("cash", MONEY, nullable=False),
        sa.Column("equity", MONEY, nullable=False),
        sa.Column("gross_exposure", MONEY, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pnl_snapshots")),
    )
    op.create_index(
        "ix_pnl_snapshots_broker_snapshot_ts", "pnl_snapshots", ["broker", "snapshot_ts"]
    )

    op.create_table(
        "positions",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("broker", sa.String(length=16), nullable=False),
        sa.Column("strategy", sa.String(length=64), nullable=False),
        sa.Column("instrument_token", sa.BigInteger(), nullable=False),
        sa.Column("symbol", sa.String(length=64), nullable=False),
        sa.Column("net_quantity", sa.Integer(), nullable=False),
        sa.Column("average_price", MONEY, nullable=False),
        sa.Column("realized_pnl", MONEY, nullable=False),
        sa.Column("charges", MONEY, nullable=False),
        sa.Column("last_price", MONEY, nullable=True),
        sa.Column("updated_ts", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_positions")),
        sa.UniqueConstraint(
            "broker",
            "strategy",
            "instrument_token",
            name=op.f("uq_positions_broker_strategy_instrument_token"),
        ),
    )
    op.create_table(
        "processed_events",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("consumer_group", sa.String(length=128), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("processed_ts", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_processed_events")),
        sa.UniqueConstraint(
            "consumer_group", "event_id", name=op.f("uq_processed_events_consumer_group_event_id")
        ),
    )
    op.create_index(op.f("ix_processed_events_processed_ts"), "processed_events", ["processed_ts"])

    op.create_table(
        "risk_alerts",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("alert_ts", sa.BigInteger(), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("broker", sa.String(length=16), nullable=True),
        sa.Column("strategy", sa.String(length=64), nullable=True),
        sa.Column("symbol", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_alerts")),
    )
    op.create_index(op.f("ix_risk_alerts_alert_ts"), "risk_alerts", ["alert_ts"])

    op.create_table(
        "strategies",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("broker", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("instruments", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_strategies")),
        sa.UniqueConstraint("broker", "name", name=op.f("uq_strategies_broker_name")),
    )
    op.create_table(
        "trading_state",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("broker", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("operator", sa.String(length=128), nullable=False),
        sa.Column("changed_ts", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trading_state")),
        sa.UniqueConstraint("broker", "scope", name=op.f("uq_trading_state_broker_scope")),
    )


def downgrade() -> None:
    op.drop_table("trading_state")
    op.drop_table("strategies")
    op.drop_index(op.f("ix_risk_alerts_alert_ts"), table_name="risk_alerts")
    op.drop_table("risk_alerts")
    op.drop_index(op.f("ix_processed_events_processed_ts"), table_name="processed_events")
    op.drop_table("processed_events")
    op.drop_table("positions")
    op.drop_index("ix_pnl_snapshots_broker_snapshot_ts", table_name="pnl_snapshots")
    op.drop_table("pnl_snapshots")
    op.drop_index("ix_orders_broker_status", table_name="orders")
    op.drop_table("orders")
    op.drop_index(op.f("ix_instruments_instrument_token"), table_name="instruments")
    op.drop_table("instruments")
    op.drop_index(op.f("ix_fills_client_order_id"), table_name="fills")
    op.drop_table("fills")
    op.drop_index(op.f("ix_audit_log_audit_ts"), table_name="audit_log")
    op.drop_table("audit_log")
