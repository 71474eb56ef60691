"""``alphapanda orders --rejected`` lists the signals pre-trade risk refused, with the rule
and the reason, beside the orders the venue rejected: a refused signal is never an order
row. A manual one is listed once (the audit's line, which names its type and product, not
again from risk's alert); a strategy's comes from risk's alert."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from engine.bus.memory import MemoryBus
from engine.clock import ManualClock
from engine.events.envelope import new_event
from engine.events.payloads import RejectedSignal, Signal
from engine.events.types import Broker, EventType, OrderType, Product, Side
from engine.instruments import load_default_registry
from engine.processing.emitter import Emitter
from engine.risk.alerts import refusal_record, rejection_alert
from engine.trading_state.manual import OrderTicket, manual_signal
from engine.trading_state.manual_outcomes import ManualOutcomes
from tests.integration.support import cli, engine_env
from tests.kafka.cluster import settings_for

MARKET_TIME_NS = 1_796_614_749_000_000_000  # a weekday morning, IST


async def _refuse_a_manual_order(home: Path) -> None:
    """What the engine's ``ManualOutcomes`` writes when risk refuses a manual ticket."""
    from alphapanda_tui.store_opening import open_store

    store = await open_store(settings_for(engine_env(home)))
    bus = MemoryBus()
    try:
        outcomes = ManualOutcomes(
            bus=bus, broker=Broker.PAPER, store=store, clock=ManualClock(MARKET_TIME_NS)
        )
        ticket = OrderTicket(
            side=Side.BUY,
            symbol="INFY",
            quantity=7,
            order_type=OrderType.LIMIT,
            product=Product.CNC,
            price=Decimal("1400.00"),
        )
        infy = load_default_registry().by_key("NSE:INFY")
        signal = manual_signal(
            ticket, infy, request_id="r-1", operator="alice", ts_ns=MARKET_TIME_NS
        )
        reason = "price 1400.00 is 11.32% away from last price 1578.65 (band ±5%)"
        rejected = RejectedSignal(signal=signal, rule="price_band", reason=reason)
        event = new_event(EventType.SIGNAL_REJECTED, rejected, source="risk", broker=Broker.PAPER)
        await outcomes.handle(event, Emitter("test", event, MARKET_TIME_NS))
        strategy = Signal(
            signal_id="sig-momo-1",
            strategy="momo",
            instrument_token=infy.instrument_token,
            symbol=infy.key,
            side=Side.SELL,
            quantity=2_000,
            signal_ts=MARKET_TIME_NS + 1,
        )
        too_many = RejectedSignal(signal=strategy, rule="max_order_quantity", reason="too many")
        for refusal in (rejected, too_many):  # what risk stores with each refusal's alert
            signal = refusal.signal
            alert = rejection_alert(signal, refusal.rule, refusal.reason, Broker.PAPER)
            await store.add_alert(refusal_record(alert, refusal))
    finally:
        await store.aclose()
        await bus.aclose()


async def test_a_risk_refused_manual_order_is_listed_with_its_reason(tmp_path: Path) -> None:
    await _refuse_a_manual_order(tmp_path)

    done = cli(tmp_path, "orders", "--rejected")

    assert done.returncode == 0, done.stdout + done.stderr
    [header, line, momo] = done.stdout.splitlines()
    assert header.split()[:6] == ["placed", "order", "strategy", "side", "qty", "symbol"]
    assert "manual:r-1" in line and "manual" in line.split()
    assert "BUY" in line and " 7 " in line and "NSE:INFY" in line and "1,400.00" in line
    assert "REJECTED" in line
    assert line.endswith(
        "risk price_band: price 1400.00 is 11.32% away from last price 1578.65 (band ±5%)"
    )

    assert "CNC" in line  # the audit's line, with the product
    assert momo.split()[1:6] == ["sig-momo-1", "momo", "SELL", "2000", "NSE:INFY"]
    assert momo.endswith("risk max_order_quantity: too many")

    rows = json.loads(cli(tmp_path, "orders", "--rejected", "--json").stdout)
    assert [(r["strategy"], r["quantity"], r["status"]) for r in rows] == [
        ("manual", 7, "REJECTED"),
        ("momo", 2000, "REJECTED"),
    ]
    # the day has orders, none working: saying "no orders today" would be false
    assert cli(tmp_path, "orders", "--open").stdout.strip() == "no working orders"
