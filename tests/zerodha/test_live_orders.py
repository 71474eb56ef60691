"""Live orders with the real ``KiteConnect`` client against the loopback Kite broker."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from engine.events.types import OrderStatus, OrderType
from engine.zerodha.kite_orders import kite_tags, map_status, row_tag
from tests.kite_fake.server import FakeKite
from tests.zerodha.live_harness import live_venue

pytestmark = pytest.mark.kite


def _place_bodies(fake: FakeKite) -> list[dict]:
    return [p for m, path, p in fake.state.requests if m == "POST" and path.startswith("/orders/")]


async def test_market_order_carries_market_protection_and_tag(
    fake_kite: FakeKite, tmp_path: Path
) -> None:
    venue = await live_venue(fake_kite, tmp_path)
    market = await venue.outbox("sig-m")
    limit = await venue.outbox("sig-l", OrderType.LIMIT, price=Decimal("1500.05"))
    stop = await venue.outbox(
        "sig-s", OrderType.SL_M, trigger_price=Decimal("1490.00"), side=market.side.opposite
    )
    for intent in (market, limit, stop):
        ack = await venue.adapter.place(intent)
        assert ack.status is OrderStatus.SUBMITTED and ack.broker_order_id
    sent_market, sent_limit, sent_stop = _place_bodies(fake_kite)
    assert sent_market["market_protection"] == "-1"
    assert sent_market["tag"] == market.client_order_id
    assert "market_protection" not in sent_limit and sent_limit["price"] == "1500.05"
    assert sent_stop["market_protection"] == "-1" and sent_stop["trigger_price"] == "1490.00"
    assert sent_stop["transaction_type"] == "SELL" and sent_stop["product"] == "MIS"


async def test_text_order_update_completes_the_order_with_its_fill_once(
    fake_kite: FakeKite, tmp_path: Path
) -> None:
    venue = await live_venue(fake_kite, tmp_path)
    intent = await venue.outbox("sig-fill", OrderType.LIMIT, price=Decimal("1500.05"))
    ack = await venue.adapter.place(intent)
    await venue.mark_sent(intent.client_order_id, ack.broker_order_id, ack.status)
    assert ack.broker_order_id is not None
    pushed = fake_kite.fill_order(ack.broker_order_id, price=1500.05)
    text_frame = json.loads(json.dumps(pushed))  # as the ticker hands it over: strings
    [update] = await venue.updates.ingest(text_frame)
    assert update.status is OrderStatus.FILLED
    assert update.filled_quantity == 10 and update.average_price == Decimal("1500.05")
    assert update.fill is not None
    assert update.fill.trade_id == fake_kite.trade_ids(ack.broker_order_id)[0]
    assert update.fill.trade_id.isdigit()  # Kite's trade ids are digits
    assert update.fill.price == Decimal("1500.05") and update.fill.quantity == 10
    assert update.broker_order_id == ack.broker_order_id and update.update_ts > 0
    # the same trade seen again by the order-book poll is not a second fill
    assert await venue.updates.ingest(text_frame) == []
    await venue.mark_sent(intent.client_order_id, ack.broker_order_id, OrderStatus.OPEN)
    assert await venue.updates.poll_once() == 0
    assert [u.fill.trade_id for u in venue.sent if u.fill] == [
        fake_kite.trade_ids(ack.broker_order_id)[0]
    ]


async def test_partial_fills_seen_only_by_polling_become_two_fills(
    fake_kite: FakeKite, tmp_path: Path
) -> None:
    venue = await live_venue(fake_kite, tmp_path)
    intent = await venue.outbox("sig-part", OrderType.LIMIT, price=Decimal("1500.00"))
    ack = await venue.adapter.place(intent)
    await venue.mark_sent(intent.client_order_id, ack.broker_order_id, OrderStatus.OPEN)
    assert ack.broker_order_id is not None
    fake_kite.fill_order(ack.broker_order_id, price=1499.0, quantity=4, push=False)
    await venue.updates.poll_once()
    fake_kite.fill_order(ack.broker_order_id, price=1500.0, push=False)
    await venue.updates.poll_once()
    statuses = [(u.status, u.filled_quantity, u.fill.quantity if u.fill else 0) for u in venue.sent]
    assert statuses == [(OrderStatus.PARTIALLY_FILLED, 4, 4), (OrderStatus.FILLED, 10, 6)]
    assert venue.sent[-1].average_price == Decimal("1499.6")


async def test_rms_rejection_is_rejected_with_kites_reason(
    fake_kite: FakeKite, tmp_path: Path
) -> None:
    venue = await live_venue(fake_kite, tmp_path)
    fake_kite.state.place_script.append("rms")
    ack = await venue.adapter.place(await venue.outbox("sig-rms"))
    assert ack.status is OrderStatus.REJECTED
    assert ack.reason == fake_kite.state.reject_reason


async def test_oms_rejection_after_acceptance_arrives_as_an_update_with_reason(
    fake_kite: FakeKite, tmp_path: Path
) -> None:
    venue = await live_venue(fake_kite, tmp_path)
    fake_kite.state.place_script.append("reject")
    intent = await venue.outbox("sig-oms")
    ack = await venue.adapter.place(intent)
    await venue.mark_sent(intent.client_order_id, ack.broker_order_id, ack.status)
    await venue.updates.poll_once()
    [update] = venue.sent
    assert update.status is OrderStatus.REJECTED
    assert "Insufficient funds" in update.reason


async def test_429_is_throttled_not_retried_and_pauses_the_next_order(
    fake_kite: FakeKite, tmp_path: Path
) -> None:
    venue = await live_venue(fake_kite, tmp_path)
    fake_kite.state.place_script.append("429")
    ack = await venue.adapter.place(await venue.outbox("sig-429"))
    assert ack.status is OrderStatus.REJECTED and "429" in ack.reason
    assert venue.place_posts() == 1  # one request, no blind retry
    venue.slept.clear()
    ack = await venue.adapter.place(await venue.outbox("sig-after"))
    assert ack.status is OrderStatus.SUBMITTED
    assert venue.slept and venue.slept[0] == pytest.approx(1.0, abs=0.01)
    assert venue.place_posts() == 2


async def test_place_timeout_with_the_order_at_zerodha_is_found_by_tag_not_resent(
    fake_kite: FakeKite, tmp_path: Path
) -> None:
    venue = await live_venue(fake_kite, tmp_path, timeout=0.3)
    fake_kite.state.timeout_delay = 0.8
    fake_kite.state.place_script.append("timeout")
    intent = await venue.outbox("sig-timeout")
    ack = await venue.adapter.place(intent)
    assert ack.status is OrderStatus.SUBMITTED  # found OPEN PENDING, not yet at the exchange
    assert venue.place_posts() == 1
    [order] = fake_kite.state.orders.values()
    assert ack.broker_order_id == order["order_id"] and order["tag"] == intent.client_order_id


async def test_place_timeout_with_the_order_absent_is_sent_exactly_once_more(
    fake_kite: FakeKite, tmp_path: Path
) -> None:
    venue = await live_venue(fake_kite, tmp_path, timeout=0.3)
    fake_kite.state.timeout_delay = 0.5
    fake_kite.state.place_script.extend(["timeout_absent", "timeout_absent"])
    intent = await venue.outbox("sig-absent")
    ack = await venue.adapter.place(intent)
    assert ack.status is OrderStatus.REJECTED and "not sent again" in ack.reason
    assert venue.place_posts() == 2  # the original and exactly one resend
    assert fake_kite.state.orders == {}


async def test_token_exception_ends_the_session_and_refuses_further_sends(
    fake_kite: FakeKite, tmp_path: Path
) -> None:
    venue = await live_venue(fake_kite, tmp_path)
    ended: list[str] = []
    venue.session.on_expired(ended.append)
    fake_kite.state.invalidate_all_tokens()
    ack = await venue.adapter.place(await venue.outbox("sig-tok1"))
    assert ack.status is OrderStatus.REJECTED and "log in again" in ack.reason
    assert ended and venue.session.info is None
    assert not (tmp_path / "token.json").exists()
    ack = await venue.adapter.place(await venue.outbox("sig-tok2"))
    assert ack.status is OrderStatus.REJECTED
    assert venue.place_posts() == 1  # the second order never left the process


async def test_cancel_and_modify_go_through_the_client(fake_kite: FakeKite, tmp_path: Path) -> None:
    venue = await live_venue(fake_kite, tmp_path)
    intent = await venue.outbox("sig-cm", OrderType.LIMIT, price=Decimal("1500.00"))
    ack = await venue.adapter.place(intent)
    await venue.mark_sent(intent.client_order_id, ack.broker_order_id, OrderStatus.OPEN)
    order = await venue.store.get_order(intent.client_order_id)
    assert order is not None and ack.broker_order_id is not None
    modified = await venue.adapter.modify(order, price=Decimal("1501.50"))
    assert modified.accepted
    assert fake_kite.state.orders[ack.broker_order_id]["price"] == 1501.5
    cancelled = await venue.adapter.cancel(order)
    assert cancelled.accepted
    assert fake_kite.state.orders[ack.broker_order_id]["status"] == "CANCELLED"
    again = await venue.adapter.cancel(order)
    assert not again.accepted and "cannot be modified or cancelled" in again.reason
    assert await venue.adapter.open_orders() == []


@pytest.mark.parametrize(
    ("kite", "filled", "last", "expected"),
    [
        ("COMPLETE", 10, None, OrderStatus.FILLED),
        ("OPEN", 0, None, OrderStatus.OPEN),
        ("OPEN", 4, None, OrderStatus.PARTIALLY_FILLED),
        ("TRIGGER PENDING", 0, None, OrderStatus.TRIGGER_PENDING),
        ("REJECTED", 0, None, OrderStatus.REJECTED),
        ("CANCELLED", 4, None, OrderStatus.CANCELLED),
        ("OPEN PENDING", 0, None, OrderStatus.SUBMITTED),
        ("PUT ORDER REQ RECEIVED", 0, None, OrderStatus.SUBMITTED),
        # Kite modifying (or cancelling) a working order: it keeps working as it was
        ("MODIFY VALIDATION PENDING", 0, OrderStatus.OPEN, OrderStatus.OPEN),
        ("MODIFY PENDING", 0, OrderStatus.TRIGGER_PENDING, OrderStatus.TRIGGER_PENDING),
        ("MODIFY PENDING", 0, None, OrderStatus.OPEN),
        ("CANCEL PENDING", 0, OrderStatus.TRIGGER_PENDING, OrderStatus.TRIGGER_PENDING),
        ("MODIFY PENDING", 4, OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED),
        # a postback's UPDATE is read by its fields
        ("UPDATE", 0, OrderStatus.TRIGGER_PENDING, OrderStatus.TRIGGER_PENDING),
        ("UPDATE", 4, OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED),
        ("UPDATE", 10, OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED),
    ],
)
def test_kite_statuses_map_to_engine_statuses(
    kite: str, filled: int, last: OrderStatus | None, expected: OrderStatus
) -> None:
    assert map_status(kite, filled, 10, last=last) is expected


def test_only_tag_is_a_client_order_id_and_kites_own_tags_stay_information() -> None:
    """Rows as Zerodha sends them (market protection, autoslice)."""
    untagged = {"tag": None, "tags": ["mktp", "mktp:2.00"]}
    assert row_tag(untagged) is None
    assert kite_tags(untagged) == ["mktp", "mktp:2.00"]
    sliced = {"tag": "AP0001abc", "tags": ["autoslice", "AP0001abc"]}
    assert (row_tag(sliced), kite_tags(sliced)) == ("AP0001abc", ["autoslice"])
    assert row_tag({"tags": []}) is None and row_tag({}) is None
