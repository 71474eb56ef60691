"""Zerodha's own mock responses (``kite_mocks/``), read by the real ``kiteconnect`` client
from the loopback server and then by the project's functions the live path uses."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from kiteconnect import KiteConnect

from engine.clock import IST, ManualClock, datetime_to_ns
from engine.events.payloads import ReconciliationDiff, RiskAlert
from engine.events.types import EventType, OrderStatus
from engine.instruments.csv_loader import parse_instruments
from engine.zerodha.instruments_sync import download_dump
from engine.zerodha.kite_orders import (
    KiteFailure,
    classify_failure,
    kite_tags,
    kite_time_ns,
    map_status,
    row_tag,
)
from engine.zerodha.reconcile import Reconciler
from engine.zerodha.session import ZerodhaSession
from storage.token_store import FileTokenStore
from tests.kite_fake.server import FakeKite, position_book
from tests.zerodha.live_harness import live_venue

pytestmark = pytest.mark.kite
MOCKS = Path(__file__).parent / "kite_mocks"


def _serve(fake: FakeKite, method: str, path: str, name: str, status: int = 200) -> None:
    content_type = "text/csv" if name.endswith(".csv") else "application/json"
    fake.state.canned[(method, path)] = (status, (MOCKS / name).read_bytes(), content_type)


def _data(name: str) -> Any:
    return json.loads((MOCKS / name).read_text())["data"]


def _ist_ns(*args: int) -> int:
    return datetime_to_ns(datetime(*args, tzinfo=IST))


async def test_order_book_statuses_tags_and_times(fake_kite: FakeKite, tmp_path: Path) -> None:
    venue = await live_venue(fake_kite, tmp_path)
    _serve(fake_kite, "GET", "/orders", "orders.json")
    rows = venue.session.client().orders()
    statuses = [map_status(r["status"], r["filled_quantity"], r["quantity"]) for r in rows]
    assert statuses == [
        OrderStatus.CANCELLED,
        OrderStatus.FILLED,
        OrderStatus.FILLED,
        OrderStatus.REJECTED,
        OrderStatus.FILLED,
        OrderStatus.FILLED,
        OrderStatus.CANCELLED,
        OrderStatus.CANCELLED,
        OrderStatus.FILLED,
        OrderStatus.FILLED,
    ]
    assert [row_tag(r) for r in rows] == [
        None,
        None,
        None,
        "icebergord",
        "connect test order1",
        "connect test order2",
        None,
        None,
        None,
        None,
    ]
    assert kite_tags(rows[5]) == ["XXXXX"]
    assert kite_tags(rows[8]) == ["mktp", "mktp:2.00"]  # market protection, not our id
    assert kite_tags(rows[9]) == ["autoslice", "autoslice:1953367517640548352"]
    # the client turned the naive IST time into a datetime; it is 03:48:57 UTC
    assert rows[0]["order_timestamp"] == datetime(2021, 5, 31, 9, 18, 57)
    assert kite_time_ns(rows[0]["order_timestamp"]) == _ist_ns(2021, 5, 31, 9, 18, 57)
    assert kite_time_ns(rows[0]["exchange_update_timestamp"]) == _ist_ns(2021, 5, 31, 9, 18, 58)


async def test_order_history_never_reads_as_a_step_back(
    fake_kite: FakeKite, tmp_path: Path
) -> None:
    """Kite's history of a modified order: each row read with the status before it."""
    venue = await live_venue(fake_kite, tmp_path)
    _serve(fake_kite, "GET", "/orders/171229000724687", "order_info.json")
    rows = venue.session.client().order_history("171229000724687")
    read: list[OrderStatus] = []
    last: OrderStatus | None = None
    for row in rows:
        last = map_status(row["status"], row["filled_quantity"], row["quantity"], last=last)
        read.append(last)
    assert [r["status"] for r in rows][-2:] == ["MODIFIED", "OPEN"]
    assert read == [OrderStatus.SUBMITTED] * 3 + [OrderStatus.OPEN] * 5
    assert [r["exchange_order_id"] for r in rows][2:4] == [None, "1300000001887410"]
    assert (rows[-2]["price"], rows[-1]["price"]) == (300, 300.1)  # the modify's new price


async def test_order_trades_are_journalled_through_the_update_path(
    fake_kite: FakeKite, tmp_path: Path
) -> None:
    venue = await live_venue(fake_kite, tmp_path)
    intent = await venue.outbox("sig-mock", quantity=1)
    cid = intent.client_order_id
    await venue.mark_sent(cid, "200000000000000", OrderStatus.OPEN)
    _serve(fake_kite, "GET", "/orders/200000000000000/trades", "order_trades.json")
    row = dict(_data("orders.json")[1], order_id="200000000000000", tag=cid)
    updates = await venue.updates.ingest(row)
    [update] = updates
    assert update.status is OrderStatus.FILLED and update.filled_quantity == 1
    assert update.fill is not None
    assert (update.fill.trade_id, update.fill.quantity, update.fill.price) == (
        "10000000",
        1,
        Decimal("4852"),
    )
    assert update.fill.fill_ts == _ist_ns(2021, 5, 31, 16, 0, 36)


async def test_trade_book_positions_and_orders_reconcile_with_words(
    fake_kite: FakeKite, tmp_path: Path
) -> None:
    venue = await live_venue(fake_kite, tmp_path)
    _serve(fake_kite, "GET", "/orders", "orders.json")
    _serve(fake_kite, "GET", "/trades", "trades.json")
    _serve(fake_kite, "GET", "/portfolio/positions", "positions.json")
    published: list[tuple[EventType, ReconciliationDiff | RiskAlert]] = []

    async def publish(type_: EventType, payload: Any, key: str) -> None:
        published.append((type_, payload))

    report = await Reconciler(venue.session.client, venue.store, publish).run()
    messages = [d.message for d in report.diffs]
    assert sum("no tag (placed outside AlphaPanda)" in m for m in messages) == 7
    assert any(
        "no tag (placed outside AlphaPanda) and Kite's tags mktp, mktp:2.00" in m for m in messages
    )
    assert any("an unknown tag icebergord" in m for m in messages)
    # net rows only: the day row's GOLDGUINEA -3 is today's part of a flat position
    positions = [(d.key, d.local, d.remote) for d in report.diffs if d.subject == "position"]
    assert positions == [("MCX:LEADMINI17DECFUT", "0", "1")]
    assert not [d for d in report.diffs if d.subject == "trade"]  # foreign trades


async def test_session_from_the_real_generate_session(fake_kite: FakeKite, tmp_path: Path) -> None:
    _serve(fake_kite, "POST", "/session/token", "generate_session.json")
    clock = ManualClock(_ist_ns(2026, 11, 24, 9, 10))
    session = ZerodhaSession(
        api_key=fake_kite.state.api_key,
        api_secret=fake_kite.state.api_secret,
        api_root=fake_kite.api_root,
        login_url=f"{fake_kite.api_root}/connect/login",
        token_store=FileTokenStore(tmp_path / "token.json"),
        clock=clock,
    )
    info = await session.exchange("AnyRequestToken1")
    assert (info.user_id, info.user_name, info.access_token) == ("XX0000", "Kite Connect", "XXXXXX")
    assert info.expires_ts == _ist_ns(2026, 11, 25, 6, 0)


@pytest.mark.parametrize(
    ("name", "rows", "first", "option"),
    [
        ("instruments_nse.csv", 99, ("NSE", "CENTRALBK-BE", Decimal("0.05"), 1), None),
        (
            "instruments_all.csv",
            99,
            ("NSE", "CENTRALBK-BE", Decimal("0.05"), 1),
            ("BANKNIFTY18JAN23500CE", date(2018, 1, 25), Decimal("23500.0"), 40),
        ),
    ],
)
async def test_instrument_dumps_load(
    fake_kite: FakeKite, tmp_path: Path, name: str, rows: int, first: tuple, option: tuple | None
) -> None:
    venue = await live_venue(fake_kite, tmp_path)
    _serve(fake_kite, "GET", "/instruments/NSE", name)
    loaded = parse_instruments(download_dump(venue.session.client(), "NSE"))
    assert loaded.errors == [] and len(loaded.instruments) == rows
    head = loaded.instruments[0]
    assert (head.exchange, head.tradingsymbol, head.tick_size, head.lot_size) == first
    assert head.instrument_token == 3813889 and head.exchange_token == 14898 and head.expiry is None
    if option is not None:
        [opt] = [i for i in loaded.instruments if i.tradingsymbol == option[0]]
        assert (opt.tradingsymbol, opt.expiry, opt.strike, opt.lot_size) == option


@pytest.mark.parametrize(
    ("http", "expected"),
    [(400, KiteFailure.REJECTED), (503, KiteFailure.UNKNOWN)],
)
async def test_autoslice_childs_margin_error_as_a_place_answer(
    fake_kite: FakeKite, tmp_path: Path, http: int, expected: KiteFailure
) -> None:
    """The error object of a rejected autoslice child (``MarginException``, a name the
    client has no class for) in Kite's error envelope (KITE_FACTS, not a mock file)."""
    venue = await live_venue(fake_kite, tmp_path)
    [child] = [c for c in _data("autoslice_response.json")["children"] if "error" in c]
    body = json.dumps({"status": "error", **child["error"]}).encode()
    fake_kite.state.canned[("POST", "/orders/regular")] = (http, body, "application/json")
    with pytest.raises(Exception) as caught:
        venue.session.client().place_order(
            variety="regular",
            exchange="NSE",
            tradingsymbol="INFY",
            transaction_type="BUY",
            quantity=1,
            product="CNC",
            order_type="LIMIT",
            price=1500,
        )
    assert type(caught.value).__name__ == "GeneralException" and caught.value.code == http
    assert "Required margin is 228365.92" in str(caught.value)
    assert classify_failure(caught.value) is expected


def _keys(rows: list[dict[str, Any]]) -> set[str]:
    return set().union(*(r.keys() for r in rows))


def test_the_fakes_rows_carry_every_field_of_the_real_ones(fake_kite: FakeKite) -> None:
    """The loopback Kite answers in the real shapes, so code reading any field is tested."""
    venue_kite = fake_kite.state
    venue_kite.access_tokens.add("tok")
    kite = KiteConnect(api_key=venue_kite.api_key, access_token="tok", root=fake_kite.api_root)
    order_id = kite.place_order(
        variety="regular",
        exchange="NSE",
        tradingsymbol="INFY",
        transaction_type="BUY",
        quantity=10,
        product="MIS",
        order_type="LIMIT",
        price=1500,
        tag="AP1",
    )
    fake_kite.fill_order(order_id, quantity=4, push=False)
    venue_kite.positions.append(
        {"exchange": "NSE", "tradingsymbol": "INFY", "product": "MIS", "quantity": -3}
    )
    auction_only = {"auction_number"}
    real_order = _keys(_data("orders.json")) - auction_only
    assert real_order - _keys(kite.orders()) == set()
    assert _keys(_data("trades.json")) == _keys(kite.trades())
    assert _keys(_data("positions.json")["net"]) == _keys(position_book(venue_kite)["net"])
    assert (
        set(json.loads((MOCKS / "postback.json").read_text()))
        - set(fake_kite.update_payload(venue_kite.orders[order_id]))
        == set()
    )
    book = position_book(venue_kite)
    assert [(r["quantity"], r["overnight_quantity"]) for r in book["net"]] == [(1, -3)]
    assert [(r["quantity"], r["overnight_quantity"]) for r in book["day"]] == [(4, 0)]
