"""Basket margins and the live funds line (issue 14.6, 16.4), with the real ``kiteconnect``
client against the loopback Kite: several orders checked at once cost one basket request;
a failed basket falls back to order by order; ``margins()`` feeds the console's funds."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from kiteconnect import KiteConnect

from engine.events.payloads import OrderIntent
from engine.events.types import Broker, OrderType, Product, Side
from engine.execution.funds import Funds
from engine.read_model import ReadModel
from engine.zerodha.funds_poll import live_funds
from engine.zerodha.margins import KiteMarginCheck, MarginConfig
from tests.kite_fake.server import FakeKite

pytestmark = pytest.mark.kite


def _logged_in(fake: FakeKite) -> KiteConnect:
    kite = KiteConnect(api_key=fake.state.api_key, root=fake.api_root)
    fake.state.issue_request_token("reqtok-basket")
    kite.generate_session("reqtok-basket", api_secret=fake.state.api_secret)
    return kite


def _check(fake: FakeKite, **config: object) -> tuple[KiteMarginCheck, list[Funds]]:
    kite = _logged_in(fake)
    shown: list[Funds] = []
    check = KiteMarginCheck(lambda: kite, config=MarginConfig(**config), on_funds=shown.append)
    return check, shown


def _buy(coid: str, quantity: int, price: str = "1500.00") -> OrderIntent:
    return OrderIntent(
        client_order_id=coid,
        signal_id=coid,
        strategy="ema",
        broker=Broker.ZERODHA,
        instrument_token=408065,
        symbol="NSE:INFY",
        side=Side.BUY,
        quantity=quantity,
        order_type=OrderType.LIMIT,
        product=Product.MIS,
        price=Decimal(price),
    )


def _requests(fake: FakeKite, prefix: str) -> int:
    return sum(1 for m, p, _ in fake.state.requests if m == "POST" and p.startswith(prefix))


async def test_a_batch_is_checked_with_one_basket_request(fake_kite: FakeKite) -> None:
    check, _ = _check(fake_kite)  # the mock account: ₹99,725.05 available

    verdicts = await check.problems([_buy("a", 10), _buy("b", 20), _buy("c", 30)])

    assert verdicts == [None, None, None]  # 3,000 + 6,000 + 9,000 needed
    assert _requests(fake_kite, "/margins/basket") == 1
    assert _requests(fake_kite, "/margins/orders") == 0
    [(_, _, params)] = [r for r in fake_kite.state.requests if r[1].startswith("/margins/b")]
    assert [o["quantity"] for o in params["_json"]] == [10, 20, 30]


async def test_a_basket_beyond_the_margin_refuses_the_orders_that_do_not_fit(
    fake_kite: FakeKite,
) -> None:
    fake_kite.state.margin_available = 10000.0
    check, _ = _check(fake_kite)

    verdicts = await check.problems([_buy("a", 20), _buy("b", 20), _buy("c", 10)])

    assert verdicts == [
        None,  # 6,000 of 10,000
        "margin: needs ₹6,000.00, available ₹4,000.00",
        None,  # 3,000 of the 4,000 left
    ]
    assert _requests(fake_kite, "/margins/basket") == 1


async def test_checks_that_queue_behind_one_in_flight_share_a_basket(
    fake_kite: FakeKite,
) -> None:
    fake_kite.state.margin_available = 10000.0
    check, _ = _check(fake_kite, cache_s=60.0)

    verdicts = await asyncio.gather(
        check.problem(_buy("a", 20)), check.problem(_buy("b", 20)), check.problem(_buy("c", 5))
    )

    assert verdicts == [None, "margin: needs ₹6,000.00, available ₹4,000.00", None]
    assert _requests(fake_kite, "/margins/orders") == 1  # the first, alone
    assert _requests(fake_kite, "/margins/basket") == 1  # the two that waited for it
    assert check.requests == 3  # and one read of the available margin


async def test_a_failed_basket_falls_back_to_order_by_order(fake_kite: FakeKite) -> None:
    fake_kite.state.margin_script = ["error"]  # the basket request fails
    check, _ = _check(fake_kite)

    verdicts = await check.problems([_buy("a", 10), _buy("b", 10)])

    assert verdicts == [None, None]
    assert _requests(fake_kite, "/margins/basket") == 1
    assert _requests(fake_kite, "/margins/orders") == 2


async def test_when_order_by_order_fails_too_on_error_refuses_every_order(
    fake_kite: FakeKite,
) -> None:
    fake_kite.state.margin_script = ["error", "error"]
    check, _ = _check(fake_kite)

    verdicts = await check.problems([_buy("a", 10), _buy("b", 10)])

    assert all(v and v.startswith("margin: could not check with Zerodha") for v in verdicts)


async def test_the_funds_line_comes_from_kites_margins(fake_kite: FakeKite) -> None:
    check, shown = _check(fake_kite)

    funds = await check.read_funds()

    # Zerodha's mock margins: net 99,725.05 available, 1,45,706.55 debits used
    assert (funds.available, funds.used, funds.total) == (
        Decimal("99725.05"),
        Decimal("145706.55"),
        Decimal("245431.60"),
    )
    assert funds.source == "zerodha"
    assert shown == [funds]
    assert [p for m, p, _ in fake_kite.state.requests if m == "GET"] == ["/user/margins/equity"]


async def test_an_order_check_also_refreshes_the_funds_line(fake_kite: FakeKite) -> None:
    fake_kite.state.margin_available = 50000.0
    check, shown = _check(fake_kite)

    await check.problem(_buy("a", 10))

    assert [f.available for f in shown] == [Decimal("50000.00")]


async def test_the_funds_poller_feeds_the_read_model_and_survives_a_failure(
    fake_kite: FakeKite,
) -> None:
    model = ReadModel()
    check, _ = _check(fake_kite)
    poller = live_funds(check, model.set_funds, poll_s=30.0)
    fake_kite.state.margin_script = ["error"]

    assert await poller.poll_once() is None  # Kite down: no figure, no crash
    assert model.funds is None
    assert "GeneralException" in poller.health().detail

    await poller.poll_once()

    assert model.funds is not None
    assert model.funds.available == Decimal("99725.05")
    assert poller.health().detail == "1 reads"
