"""Manual order requests from the CLI reach the engine as the pipeline's own messages:
a ticket becomes one ``manual`` signal for risk, a cancel or modify one order command,
an exit the kill switch's square-off narrowed; refusals are answered in words, unsent."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from engine.bus import MemoryBus
from engine.clock import ManualClock
from engine.domain.records import AuditRecord, Instrument, OrderRecord
from engine.events import topics
from engine.events.payloads import OrderCommand, Signal
from engine.events.types import (
    Broker,
    OrderCommandAction,
    OrderStatus,
    OrderType,
    Product,
    Side,
    Validity,
)
from engine.memory_store import MemoryTradingStore
from engine.trading_state.control import TradingControl
from engine.trading_state.manual import (
    MANUAL_STRATEGY,
    MAX_MODIFICATIONS,
    OrderTicket,
    manual_client_order_id,
    modification_problem,
    ticket_problem,
)
from engine.trading_state.manual_requests import modifications_done
from engine.trading_state.requests import ACK_PREFIX, ControlRequestPoller, request_record
from engine.trading_state.state import TradingState

INFY = Instrument(
    instrument_token=408065,
    exchange_token=1594,
    tradingsymbol="INFY",
    name="INFOSYS",
    exchange="NSE",
    segment="NSE",
    instrument_type="EQ",
    tick_size=Decimal("0.05"),
    lot_size=1,
)
NIFTY_FUT = Instrument(
    instrument_token=1,
    exchange_token=1,
    tradingsymbol="NIFTY26JANFUT",
    name="NIFTY",
    exchange="NFO",
    segment="NFO-FUT",
    instrument_type="FUT",
    tick_size=Decimal("0.05"),
    lot_size=75,
)
REGISTRY = {"NSE:INFY": INFY, "NFO:NIFTY26JANFUT": NIFTY_FUT}


class Desk:
    """A poller in an engine that executes orders, its store and what it published."""

    def __init__(self, *, executes: bool = True) -> None:
        self.store = MemoryTradingStore()
        self.bus = MemoryBus()
        control = TradingControl(
            self.bus, TradingState(Broker.PAPER), Broker.PAPER, ManualClock(1_000)
        )

        async def idle(_timeout: float) -> bool:
            return True

        self.poller = ControlRequestPoller(
            store=self.store,
            control=control,
            broker="paper",
            clock=ManualClock(1_000),
            sends_idle=idle if executes else None,
            instruments=REGISTRY.get,
        )
        self.poller._since = 1_000
        self.ts = 2_000

    async def ask(self, action: str, request_id: str, **detail: Any) -> dict[str, Any] | None:
        self.ts += 1
        row = request_record(
            action, "asha@desk", self.ts, request_id=request_id, broker="paper", **detail
        )
        await self.store.add_audit(row)
        await self.poller.poll_once()
        for ack in self.store.audit:
            if ack.action == ACK_PREFIX + action and ack.detail["request_id"] == request_id:
                return dict(ack.detail)
        return None

    async def published(self, topic: str) -> list[Any]:
        sub = await self.bus.subscribe([topic], f"test-{topic}")
        records = await sub.fetch(timeout=0.05)
        return [r.envelope.data for r in records if r.envelope is not None]


def _ticket(**fields: Any) -> dict[str, Any]:
    ticket = {"side": "BUY", "symbol": "INFY", "quantity": 5, "order_type": "MARKET"}
    ticket.update(fields)
    return ticket


def _working(**fields: Any) -> OrderRecord:
    values: dict[str, Any] = {
        "client_order_id": "AP1",
        "broker": Broker.PAPER,
        "strategy": MANUAL_STRATEGY,
        "signal_id": "manual:r0",
        "instrument_token": INFY.instrument_token,
        "symbol": "NSE:INFY",
        "side": Side.BUY,
        "quantity": 5,
        "order_type": OrderType.LIMIT,
        "product": Product.MIS,
        "price": Decimal("1500"),
        "status": OrderStatus.OPEN,
    }
    values.update(fields)
    return OrderRecord(**values)


async def test_a_ticket_becomes_one_manual_signal_for_risk_with_its_client_order_id() -> None:
    desk = Desk()
    ack = await desk.ask(
        "order",
        "r1",
        ticket=_ticket(order_type="LIMIT", price="1500.05", product="CNC", validity="IOC"),
    )

    assert ack is not None and ack["sent"] is True
    assert ack["client_order_id"] == manual_client_order_id("r1")
    (signal,) = await desk.published(topics.signals_raw(Broker.PAPER))
    assert isinstance(signal, Signal)
    assert signal.strategy == MANUAL_STRATEGY
    assert (signal.side, signal.quantity, signal.symbol) == (Side.BUY, 5, "NSE:INFY")
    assert signal.limit_price == Decimal("1500.05")
    assert (signal.product, signal.validity) == (Product.CNC, Validity.IOC)
    assert "asha@desk" in signal.reason


async def test_the_same_request_seen_twice_is_sent_once() -> None:
    desk = Desk()
    await desk.ask("order", "r1", ticket=_ticket())
    await desk.ask("order", "r1", ticket=_ticket())  # same request id, a redelivery

    assert len(await desk.published(topics.signals_raw(Broker.PAPER))) == 1


async def test_a_bad_ticket_is_refused_in_words_and_nothing_is_published() -> None:
    desk = Desk()
    unknown = await desk.ask("order", "r1", ticket=_ticket(symbol="NOPE"))
    odd_lot = await desk.ask("order", "r2", ticket=_ticket(symbol="NFO:NIFTY26JANFUT"))
    no_price = await desk.ask("order", "r3", ticket=_ticket(order_type="LIMIT"))

    assert unknown == {**unknown, "sent": False} and "unknown instrument NOPE" in unknown["error"]
    assert odd_lot is not None and "not a multiple of the lot size 75" in odd_lot["error"]
    assert no_price is not None and "LIMIT order needs limit price" in no_price["error"]
    assert await desk.published(topics.signals_raw(Broker.PAPER)) == []


async def test_a_process_that_does_not_execute_orders_leaves_the_request_alone() -> None:
    desk = Desk(executes=False)
    assert await desk.ask("order", "r1", ticket=_ticket()) is None
    assert await desk.published(topics.signals_raw(Broker.PAPER)) == []


async def test_cancel_and_modify_of_a_working_order_become_order_commands() -> None:
    desk = Desk()
    await desk.store.insert_order(_working())

    cancel = await desk.ask("cancel", "c1", client_order_id="AP1")
    modify = await desk.ask("modify", "m1", client_order_id="AP1", price="1501.5", quantity=10)

    assert cancel is not None and cancel["sent"] is True
    assert modify is not None and modify["modification"] == 1
    commands = await desk.published(topics.orders_commands(Broker.PAPER))
    assert [c.action for c in commands] == [OrderCommandAction.CANCEL, OrderCommandAction.MODIFY]
    assert commands[1].price == Decimal("1501.5") and commands[1].quantity == 10
    assert "asha@desk" in commands[0].reason


async def test_the_26th_modification_is_refused_before_sending() -> None:
    desk = Desk()
    await desk.store.insert_order(_working())
    for n in range(MAX_MODIFICATIONS):
        ack = await desk.ask("modify", f"m{n}", client_order_id="AP1", price="1500.10")
        assert ack is not None and ack["sent"] is True, ack

    refused = await desk.ask("modify", "m25", client_order_id="AP1", price="1500.20")

    assert refused is not None and refused["sent"] is False
    assert "already modified 25 times" in refused["error"]
    assert len(await desk.published(topics.orders_commands(Broker.PAPER))) == MAX_MODIFICATIONS


async def test_the_modification_count_reads_every_page_of_the_audit_log() -> None:
    store = MemoryTradingStore()
    for n in range(2_345):  # more than two pages; every tenth is another order's
        order = "AP2" if n % 10 == 0 else "AP1"
        detail = {"request_id": f"m{n}", "sent": True, "client_order_id": order}
        await store.add_audit(
            AuditRecord(audit_ts=1_000 + n // 3, actor="engine", action="ack.modify", detail=detail)
        )
    await store.add_audit(
        AuditRecord(
            audit_ts=9_999,
            actor="engine",
            action="ack.modify",
            detail={"request_id": "refused", "sent": False, "client_order_id": "AP1"},
        )
    )

    assert await modifications_done(store, "AP1") == 2_345 - 235
    assert await modifications_done(store, "AP2") == 235


async def test_cancel_of_an_order_that_is_not_working_is_refused() -> None:
    desk = Desk()
    await desk.store.insert_order(_working(status=OrderStatus.FILLED))

    filled = await desk.ask("cancel", "c1", client_order_id="AP1")
    missing = await desk.ask("cancel", "c2", client_order_id="AP9")

    assert filled is not None and filled["error"] == "order AP1 is FILLED, not working"
    assert missing is not None and missing["error"] == "no order AP9"
    assert await desk.published(topics.orders_commands(Broker.PAPER)) == []


async def test_exits_narrow_the_square_off_to_an_instrument_or_a_strategy() -> None:
    desk = Desk()
    await desk.ask("exit", "e1", symbol="INFY")
    await desk.ask("exit", "e2", strategy="fast-ema")
    await desk.ask("exit", "e3")

    commands: list[OrderCommand] = await desk.published(topics.orders_commands(Broker.PAPER))
    assert {c.action for c in commands} == {OrderCommandAction.SQUARE_OFF_ALL}
    narrowed = [(c.strategy, c.instrument_token) for c in commands]
    assert narrowed == [(None, INFY.instrument_token), ("fast-ema", None), (None, None)]


async def test_a_limit_exit_names_one_instrument() -> None:
    desk = Desk()
    one = await desk.ask("exit", "e1", symbol="INFY", price="1600.05")
    many = await desk.ask("exit", "e2", strategy="fast-ema", price="1600.05")

    assert one is not None and one["sent"] is True
    assert many is not None and many["error"] == "a limit exit names one instrument"
    (command,) = await desk.published(topics.orders_commands(Broker.PAPER))
    assert (command.instrument_token, command.price) == (INFY.instrument_token, Decimal("1600.05"))


@given(
    quantity=st.integers(min_value=1, max_value=10_000),
    lot=st.sampled_from([1, 15, 25, 50, 75]),
)
def test_a_ticket_quantity_is_accepted_exactly_when_it_is_whole_lots(
    quantity: int, lot: int
) -> None:
    instrument = Instrument(**{**_fields(NIFTY_FUT), "lot_size": lot})
    ticket = OrderTicket(side=Side.SELL, symbol="NFO:NIFTY26JANFUT", quantity=quantity)
    problem = ticket_problem(ticket, instrument)
    assert (problem is None) == (quantity % lot == 0)


@given(
    done=st.integers(min_value=0, max_value=60),
    price=st.decimals(min_value="0.05", max_value="100000", places=2),
)
def test_modifications_are_allowed_exactly_while_under_kites_cap(done: int, price: Decimal) -> None:
    problem = modification_problem(_working(), done, quantity=None, price=price, trigger_price=None)
    assert (problem is None) == (done < MAX_MODIFICATIONS)


def _fields(instrument: Instrument) -> dict[str, Any]:
    return {f: getattr(instrument, f) for f in instrument.__struct_fields__}
