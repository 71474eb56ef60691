"""The order ticket on the real paper runtime: the trader's keys, the engine's answer.

b opens the ticket, the symbol is searched as typed, Review shows what will be sent and
only Send sends (strategy ``manual``); a risk rejection is shown in the ticket with its
reason; after the kill switch the ticket refuses to send.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

import pytest
from textual.widgets import Static

from alphapanda_tui.app import make_app
from alphapanda_tui.attach import build_attached
from alphapanda_tui.settings import load_settings
from engine.events.types import OrderStatus, OrderType, Side
from engine.instruments import load_default_registry
from engine.trading_state.manual import MANUAL_STRATEGY
from screens.confirm import ConfirmScreen
from screens.order_ticket import OrderTicketScreen
from tests.helpers import eventually
from tests.tui.harness import BusHarness
from tests.tui.test_real_runtime import (  # noqa: F401  # the autouse fixture, active here too
    RealConsole,
    keys_do_not_wait_for_an_idle_cpu,
    open_real_console,
)

INFY = "NSE:INFY"
TICK = Decimal("0.05")
TOO_MANY = "2000000"  # above the harness's max_order_quantity of 1,000,000


@pytest.fixture
async def real(isolated_home: Path) -> AsyncIterator[RealConsole]:
    async for console in open_real_console(isolated_home):
        yield console


def _text(screen: OrderTicketScreen, name: str) -> str:
    return str(screen.query_one(f"#ticket-{name}", Static).render())


async def _ticket(real: RealConsole, key: str = "b") -> OrderTicketScreen:
    await real.pilot.press(key)
    await eventually(lambda: isinstance(real.app.screen, OrderTicketScreen), timeout=5)
    screen = real.app.screen
    assert isinstance(screen, OrderTicketScreen)
    # typing starts once the ticket has put the cursor in the instrument field
    await eventually(lambda: getattr(real.app.focused, "id", None) == "ticket-symbol", timeout=5)
    return screen


async def _fill_in(real: RealConsole, screen: OrderTicketScreen, symbol: str, qty: str) -> None:
    """Type the symbol (watching the suggestions), then the quantity."""
    await real.pilot.press(*"IN")
    await eventually(lambda: INFY in _text(screen, "matches"), message="INFY not suggested")
    await real.pilot.press(*symbol[2:])
    await eventually(lambda: _text(screen, "matches").startswith(INFY))
    real.app.set_focus(screen.query_one("#ticket-quantity"))
    await real.pilot.press(*qty)
    await eventually(lambda: screen.draft.ticket is not None, message=f"{screen.draft}")


async def _review(real: RealConsole) -> ConfirmScreen:
    await real.pilot.press("enter")
    await eventually(lambda: isinstance(real.app.screen, ConfirmScreen), timeout=5)
    confirm = real.app.screen
    assert isinstance(confirm, ConfirmScreen)
    return confirm


async def _send(real: RealConsole) -> None:
    # the dialog is drawn once its own focus is set (Cancel: Enter alone never sends)
    await eventually(lambda: getattr(real.app.focused, "id", None) == "cancel", timeout=5)
    await real.pilot.click("#confirm")
    await eventually(lambda: isinstance(real.app.screen, OrderTicketScreen), timeout=5)


def _manual_orders(real: RealConsole) -> list[str]:
    return [c for c, o in real.store.orders.items() if o.strategy == MANUAL_STRATEGY]


async def test_buy_infy_from_the_ticket_fills_in_paper(real: RealConsole) -> None:
    await real.ticks(50)  # INFY has a last price: the review can value the order
    screen = await _ticket(real)
    await _fill_in(real, screen, "INFY", "3")
    assert _text(screen, "qty-note") == "3 share(s)"
    confirm = await _review(real)
    assert confirm.question.splitlines()[:2] == ["BUY 3 NSE:INFY", "MARKET · MIS · DAY"]
    assert "est. charges ₹" in confirm.question and "Strategy: manual" in confirm.question
    assert _manual_orders(real) == []  # nothing is sent before the confirm
    await _send(real)
    coid = screen.client_order_id
    assert coid is not None
    await eventually(
        lambda: coid in real.store.orders and real.store.orders[coid].status is OrderStatus.FILLED,
        timeout=10,
        message="the manual order did not fill",
    )
    stored = real.store.orders[coid]
    assert (stored.strategy, stored.symbol, stored.side, stored.quantity) == (
        MANUAL_STRATEGY,
        INFY,
        Side.BUY,
        3,
    )
    await eventually(lambda: _text(screen, "status").startswith("FILLED"), timeout=5)
    # the fill price in rupees and paise, as everywhere else (not the journal's 4 places)
    assert f"filled 3 @ {stored.average_price:,.2f} ·" in _text(screen, "status")
    position = next(
        p for (s, _), p in real.runtime.read_model.positions.items() if s == MANUAL_STRATEGY
    )
    assert position.net_quantity == 3
    await real.pilot.press("enter")  # a second review of a sent ticket sends nothing
    await real.ticks(20)
    assert _manual_orders(real) == [coid]


async def test_a_risk_rejection_is_shown_in_the_ticket(real: RealConsole) -> None:
    screen = await _ticket(real, "s")
    await _fill_in(real, screen, "INFY", TOO_MANY)
    await _review(real)
    await _send(real)
    await eventually(
        lambda: "REJECTED by risk" in _text(screen, "status"), timeout=10, message="no verdict"
    )
    assert "1000000" in _text(screen, "status").replace(",", "")  # the limit it broke
    await real.ticks(20)
    assert _manual_orders(real) == []  # refused before an order existed: nothing sent


async def test_the_kill_switch_while_the_ticket_is_open_stops_its_send(real: RealConsole) -> None:
    screen = await _ticket(real)
    await _fill_in(real, screen, "INFY", "2")
    before = await real.kill()  # ctrl+k, Enter over the open ticket: HALTED
    assert isinstance(real.app.screen, OrderTicketScreen)
    # the dimmed dashboard behind the ticket says so at once, not at its next redraw
    await eventually(lambda: "HALTED" in _behind(screen), timeout=0.5, message=_behind(screen))
    await real.pilot.press("enter")  # review: refused in words, no confirmation offered
    await eventually(lambda: "HALTED" in _text(screen, "status"), timeout=5)
    assert "nothing sent" in _text(screen, "status")
    assert not isinstance(real.app.screen, ConfirmScreen)
    await real.ticks(20)
    assert _manual_orders(real) == [] and screen.client_order_id is None
    assert {c for c in real.store.orders if c not in before} <= {
        c for c, o in real.store.orders.items() if o.status is OrderStatus.REJECTED
    }


async def test_a_kill_between_review_and_send_sends_nothing(real: RealConsole) -> None:
    screen = await _ticket(real)
    await _fill_in(real, screen, "INFY", "2")
    await _review(real)
    await real.kill()  # ctrl+k, Enter over the confirmation
    assert isinstance(real.app.screen, ConfirmScreen)  # the question is still open
    await _send(real)
    assert "HALTED" in _text(screen, "status")
    await real.ticks(20)
    assert _manual_orders(real) == [] and screen.client_order_id is None


async def test_the_palette_opens_a_sell_ticket(real: RealConsole) -> None:
    await real.pilot.press("ctrl+p")
    await real.pilot.pause(0.3)
    await real.pilot.press(*"Sell (s)")
    await real.pilot.pause(0.5)
    await real.pilot.press("enter")
    await eventually(lambda: isinstance(real.app.screen, OrderTicketScreen), timeout=5)
    ticket = real.app.screen
    assert isinstance(ticket, OrderTicketScreen) and ticket.side is Side.SELL


async def test_an_engine_refusal_is_shown_in_the_ticket_and_nothing_is_sent() -> None:
    """The console knows INFY but the engine's controls do not: ``place_order`` raises
    ``ManualRequestError``; the ticket says why instead of crashing, and no signal leaves."""
    harness = BusHarness("paper")
    harness.registry = load_default_registry()  # type: ignore[attr-defined]
    app = make_app(harness, operator="trader@desk")
    async with app.run_test(size=(120, 40)) as pilot:
        await eventually(lambda: harness.started)
        console = RealConsole(app, pilot, None, None)  # type: ignore[arg-type]  # keys only
        screen = await _ticket(console)
        await _fill_in(console, screen, "INFY", "1")
        await _review(console)
        await _send(console)
        await eventually(lambda: _text(screen, "status").startswith("Refused:"), timeout=5)
        assert "unknown instrument" in _text(screen, "status")
        assert screen.client_order_id is None and not screen.sent


@pytest.fixture
async def band_2pct(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[RealConsole]:
    monkeypatch.setenv("ALPHAPANDA_RISK__PRICE_BAND_PCT", "2")
    async for console in open_real_console(isolated_home):
        yield console


async def test_the_ticket_checks_the_price_band_the_engine_applies(band_2pct: RealConsole) -> None:
    """With ``ALPHAPANDA_RISK__PRICE_BAND_PCT=2`` a limit 3% from the last price (inside
    the default 5%) is named out of band as typed, and one 1% away is ready to review."""
    real = band_2pct
    assert real.runtime.risk_limits.price_band_pct == 2  # what its risk manager applies
    await real.ticks(50)
    screen = await _ticket(real)
    await _fill_in(real, screen, "INFY", "1")
    await real.pilot.click("#ticket-type")  # MARKET → LIMIT
    await eventually(lambda: screen.order_type is OrderType.LIMIT)
    last = screen.last_price()
    assert last is not None

    real.app.set_focus(screen.query_one("#ticket-price"))
    await real.pilot.press(*str(_on_tick(last * Decimal("1.03"))))
    await eventually(lambda: "(band ±2%)" in _text(screen, "problem"), timeout=5)
    assert screen.draft.ticket is None
    await real.pilot.press("enter")
    assert isinstance(real.app.screen, OrderTicketScreen)  # nothing to review

    await real.pilot.press("ctrl+u")  # clear the price field
    await real.pilot.press(*str(_on_tick(last * Decimal("1.01"))))
    await eventually(lambda: screen.draft.ticket is not None, message=f"{screen.draft}")
    assert _text(screen, "problem") == ""


def test_an_attached_console_checks_the_band_the_cluster_is_configured_with(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALPHAPANDA_RISK__PRICE_BAND_PCT", "1.5")
    attached = build_attached(load_settings(bus={"bootstrap_servers": "127.0.0.1:1"}))
    assert attached.risk_limits.price_band_pct == Decimal("1.5")


def _behind(screen: OrderTicketScreen) -> str:
    """The header rows of the dashboard as drawn, dimmed, behind the ticket."""
    return " ".join("".join(s.text for s in screen.render_line(y)) for y in (0, 1))


def _on_tick(price: Decimal) -> Decimal:
    return (price / TICK).to_integral_value(ROUND_DOWN) * TICK
