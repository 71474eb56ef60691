"""Reconciliation by tag against the loopback broker: report differences, link, never re-send."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.events.payloads import ReconciliationDiff, RiskAlert
from engine.events.types import EventType, OrderStatus, Severity
from engine.zerodha.reconcile import Reconciler
from tests.kite_fake.server import FakeKite
from tests.zerodha.live_harness import LiveVenue, live_venue

pytestmark = pytest.mark.kite


def _place_direct(venue: LiveVenue, tag: str | None) -> str:
    """An order placed at Zerodha without going through the adapter (crash, or Kite web)."""
    return venue.session.client().place_order(
        variety="regular",
        exchange="NSE",
        tradingsymbol="INFY",
        transaction_type="BUY",
        quantity=10,
        product="MIS",
        order_type="MARKET",
        market_protection=-1,
        tag=tag,
    )


async def _reconcile(venue: LiveVenue, catch_up: bool = False):
    published: list[tuple[EventType, ReconciliationDiff | RiskAlert]] = []

    async def publish(type_: EventType, payload, key: str) -> None:
        published.append((type_, payload))

    reconciler = Reconciler(
        venue.session.client,
        venue.store,
        publish,
        catch_up=venue.updates.ingest if catch_up else None,
    )
    return await reconciler.run(), published


async def test_pending_order_found_by_tag_is_linked_and_not_sent_again(
    fake_kite: FakeKite, tmp_path: Path
) -> None:
    venue = await live_venue(fake_kite, tmp_path)
    intent = await venue.outbox("sig-crash")
    broker_id = _place_direct(venue, intent.client_order_id)  # sent, then the process died
    report, published = await _reconcile(venue)
    assert report.linked == [intent.client_order_id]
    order = await venue.store.get_order(intent.client_order_id)
    assert order is not None and order.broker_order_id == broker_id
    assert venue.place_posts() == 1
    assert report.clean and published == []


async def test_order_at_zerodha_unknown_here_is_reported_with_an_alert(
    fake_kite: FakeKite, tmp_path: Path
) -> None:
    venue = await live_venue(fake_kite, tmp_path)
    broker_id = _place_direct(venue, "ZZnotours01")
    report, published = await _reconcile(venue)
    [diff] = report.diffs
    assert diff.subject == "order" and diff.key == "ZZnotours01" and diff.local == "absent"
    assert broker_id in diff.remote
    types = [t for t, _ in published]
    assert types == [EventType.RECONCILIATION_DIFF, EventType.RISK_ALERT]
    alert = published[1][1]
    assert isinstance(alert, RiskAlert) and "ZZnotours01" in alert.message
    assert fake_kite.state.orders[broker_id]["status"] == "OPEN"  # reported, not touched


async def test_an_untagged_order_is_outside_alphapanda_whatever_kite_tags_it_with(
    fake_kite: FakeKite, tmp_path: Path
) -> None:
    """Real untagged MARKET rows have ``tag: null`` and ``tags: ["mktp", "mktp:2.00"]``:
    Kite's market-protection marker is not a client order id."""
    venue = await live_venue(fake_kite, tmp_path)
    broker_id = _place_direct(venue, None)
    row = fake_kite.state.orders[broker_id]
    assert (row["tag"], row["tags"]) == (None, ["mktp", "mktp:2.00"])
    report, _ = await _reconcile(venue)
    [diff] = report.diffs
    assert diff.key == broker_id and diff.local == "absent"
    assert "no tag (placed outside AlphaPanda) and Kite's tags mktp, mktp:2.00" in diff.message
    assert "unknown tag" not in diff.message


async def test_unknown_outcome_absent_at_zerodha_is_reported_critical(
    fake_kite: FakeKite, tmp_path: Path
) -> None:
    venue = await live_venue(fake_kite, tmp_path)
    intent = await venue.outbox("sig-lost")
    await venue.mark_sent(intent.client_order_id, None, OrderStatus.UNKNOWN)
    report, published = await _reconcile(venue)
    [diff] = report.diffs
    assert diff.key == intent.client_order_id and diff.remote == "absent"
    assert "not placed" in diff.message
    alert = published[1][1]
    assert isinstance(alert, RiskAlert) and alert.severity is Severity.CRITICAL
    order = await venue.store.get_order(intent.client_order_id)
    assert order is not None and order.status is OrderStatus.UNKNOWN  # never overwritten


async def test_fill_missed_while_away_is_caught_up_through_the_update_path(
    fake_kite: FakeKite, tmp_path: Path
) -> None:
    venue = await live_venue(fake_kite, tmp_path)
    intent = await venue.outbox("sig-away")
    ack = await venue.adapter.place(intent)
    await venue.mark_sent(intent.client_order_id, ack.broker_order_id, OrderStatus.OPEN)
    assert ack.broker_order_id is not None
    fake_kite.fill_order(ack.broker_order_id, price=1500.0, push=False)
    report, _ = await _reconcile(venue, catch_up=True)
    assert report.caught_up == [intent.client_order_id]
    assert [u.fill.trade_id for u in venue.sent if u.fill] == [
        fake_kite.trade_ids(ack.broker_order_id)[0]
    ]
    # no portfolio ran in this test, so the broker's position is a reported difference
    assert [(d.subject, d.key, d.local, d.remote) for d in report.diffs] == [
        ("position", "NSE:INFY", "0", "10")
    ]
