"""Paper funds (issue 16.4, 14.6): the paper venue refuses an order its cash cannot cover,
with the figures, never blocks an exit, releases margin when a position closes, and
shows the same funds after a restart (rebuilt from the journalled fills)."""

from __future__ import annotations

import asyncio
from decimal import Decimal as D

from engine.events.payloads import OrderIntent, RiskAlert
from engine.events.types import OrderStatus, OrderType, Product, Side
from engine.execution.funds import Funds
from engine.execution.paper_funds import PaperFunds
from engine.execution.service import FUNDS_RULE, ExecutionService
from tests.unit.execution.conftest import BROKER, SYMBOL, TOKEN, Harness, make_signal

START = D("100000")


class FundsHarness(Harness):
    """The execution harness with the paper funds wired as the pipeline wires them."""

    def __init__(self, leverage: str = "5") -> None:
        self.leverage = D(leverage)
        self.shown: list[Funds] = []
        super().__init__()

    def build(self, settings=None, config=None) -> ExecutionService:
        self.funds = PaperFunds(
            starting_cash=START,
            mis_leverage=self.leverage,
            on_funds=self.shown.append,
            clock=self.clock,
        )
        service = ExecutionService(
            bus=self.bus,
            broker=self.broker,
            store=self.funds.watch(self.store),
            trading_state=self.state,
            adapter=self.adapter,
            settings=settings,
            config=config,
            clock=self.clock,
            funds_check=self.funds,
        )
        self.funds.bind(service)
        return service

    async def order(self, seed: str) -> OrderStatus:
        [order] = [o for o in (await self.store.list_orders(BROKER)) if o.signal_id == seed]
        return order.status

    async def reason(self, seed: str) -> str:
        [order] = [o for o in (await self.store.list_orders(BROKER)) if o.signal_id == seed]
        return order.reason or ""


async def _started(leverage: str = "5") -> FundsHarness:
    h = FundsHarness(leverage)
    await h.service.on_start()
    return h


async def test_a_cnc_buy_beyond_the_cash_is_refused_unsent_with_both_figures() -> None:
    h = await _started()
    await h.tick("1500.00")

    events = await h.signal(
        make_signal(
            "big", quantity=100, order_type=OrderType.LIMIT, limit="1500.00", product=Product.CNC
        )
    )

    assert await h.order("big") is OrderStatus.REJECTED
    assert await h.reason("big") == "margin: needs ₹1,50,000.00, available ₹1,00,000.00"
    assert h.adapter.placed == []
    alerts = [e.data for e in events if isinstance(e.data, RiskAlert)]
    assert [a.rule for a in alerts] == [FUNDS_RULE]


async def test_the_same_quantity_on_mis_needs_a_fifth_and_goes_out() -> None:
    h = await _started()
    await h.tick("1500.00")

    await h.signal(make_signal("mis", quantity=100, order_type=OrderType.LIMIT, limit="1400.00"))

    assert await h.order("mis") is OrderStatus.OPEN
    assert len(h.adapter.placed) == 1
    funds = h.funds.figures()
    assert funds.used == D("28000.00")  # 100 x 1,400 / 5, blocked while it rests
    assert funds.available == D("72000.00")


async def test_a_resting_order_blocks_its_margin_so_the_next_cannot_spend_it() -> None:
    h = await _started()
    await h.tick("1600.00")
    limit = {"order_type": OrderType.LIMIT, "limit": "1500.00"}

    await h.signal(make_signal("first", quantity=300, **limit))  # 90,000 blocked
    await h.signal(make_signal("second", quantity=300, **limit))

    assert await h.order("first") is OrderStatus.OPEN
    assert await h.order("second") is OrderStatus.REJECTED
    assert await h.reason("second") == "margin: needs ₹90,000.00, available ₹10,000.00"


async def test_an_exit_goes_out_even_when_nothing_is_available() -> None:
    h = await _started()
    await h.tick("1500.00")
    await h.signal(make_signal("buy", quantity=66, product=Product.CNC))  # 99,000 of 1,00,000
    await h.tick("1500.00", ts=6)
    assert await h.order("buy") is OrderStatus.FILLED
    assert h.funds.figures().available < D("1000")

    await h.signal(make_signal("exit", side=Side.SELL, quantity=66, product=Product.CNC))
    await h.tick("1490.00", ts=7)

    assert await h.order("exit") is OrderStatus.FILLED
    funds = h.funds.figures()
    assert funds.used == 0  # released with the position
    fills = await h.store.list_fills(BROKER)
    cash_flow = sum((-f.side.sign * f.quantity * f.price - f.charges for f in fills), D(0))
    assert funds.available == START + cash_flow
    assert funds.total == funds.available


async def test_a_flip_is_asked_for_only_the_part_that_opens() -> None:
    funds = PaperFunds(starting_cash=D("1000"), mis_leverage=D(5))
    h = await _started()
    await h.tick("100.00")
    await h.signal(make_signal("long", quantity=10, product=Product.CNC))
    await h.tick("100.00", ts=6)
    fills = await h.store.list_fills(BROKER)
    await funds.restore(fills, h.store.get_order)  # long 10 at 100: 1,000 used

    def sell(quantity: int) -> OrderIntent:
        return OrderIntent(
            client_order_id=f"s{quantity}", signal_id="x", strategy="ema", broker=BROKER,
            instrument_token=TOKEN, symbol=SYMBOL, side=Side.SELL, quantity=quantity,
            order_type=OrderType.LIMIT, product=Product.MIS, price=D("100.00"),
        )  # fmt: skip

    assert await funds.problem(sell(10)) is None  # closes: nothing to pay
    assert await funds.problem(sell(15)) is not None  # opens 5 short: 100 needed
    assert funds.figures().available < D("100")


async def test_a_restart_shows_the_same_funds_from_the_journal() -> None:
    h = await _started()
    await h.tick("1500.00")
    await h.signal(make_signal("a", quantity=40, product=Product.CNC))
    await h.signal(make_signal("b", quantity=100))  # MIS
    await h.tick("1510.00", ts=6)
    await h.signal(make_signal("c", side=Side.SELL, quantity=15, product=Product.CNC))
    await h.tick("1520.00", ts=7)
    before = h.funds.figures()
    assert before.used > 0 and before.available < START

    h.service = h.build()  # a new process over the same journal
    await h.service.on_start()

    after = h.funds.figures()
    assert (after.available, after.used, after.total) == (
        before.available,
        before.used,
        before.total,
    )
    assert [e for e in h.shown if e.source != "paper"] == []


async def test_the_console_is_told_the_figures_after_a_fill() -> None:
    h = await _started()
    await h.tick("1500.00")
    await h.signal(make_signal("buy", quantity=10, product=Product.CNC))
    await h.tick("1500.00", ts=6)
    assert await h.order("buy") is OrderStatus.FILLED

    await _next_turn()

    assert h.shown and h.shown[-1].used == D("15000.00")


async def _next_turn() -> None:
    await asyncio.sleep(0)
    await asyncio.sleep(0)
