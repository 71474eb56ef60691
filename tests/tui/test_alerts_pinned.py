"""Risk alerts a trader can read under a flood: repeats collapse, the kill alert stays on top.

The kill goes through the keys and the real trading-state service (its CRITICAL alert);
the warnings are the ones risk raises for each refused signal (``rejection_alert``).
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from textual.pilot import Pilot
from textual.widgets._footer import FooterKey

from alphapanda_tui.app import make_app
from engine.events import topics
from engine.events.payloads import RiskAlert, Signal
from engine.events.types import Broker, EventType, Severity, Side
from engine.read_model.alerts import AlertBook, alert_key
from engine.risk.alerts import rejection_alert
from tests.helpers import eventually
from tests.tui.conftest import Console
from tests.tui.harness import NS, START_NS, BusHarness, seed

HALTED = "trading is HALTED (operator kill)"


def refused(
    quantity: int, symbol: str = "NSE:SBIN", at: int = 0, side: Side = Side.SELL
) -> RiskAlert:
    """The WARNING risk raises when a halted engine refuses a signal."""
    signal = Signal(
        signal_id=f"sig-{at}-{quantity}",
        strategy="mean_revert",
        instrument_token=779521,
        symbol=symbol,
        side=side,
        quantity=quantity,
        signal_ts=START_NS + at * NS,
    )
    return rejection_alert(signal, "trading_state", HALTED, Broker.PAPER)


async def publish_alerts(console: Console, alerts: list[RiskAlert]) -> None:
    for alert in alerts:
        await console.harness.publish(topics.SYSTEM_ALERTS, EventType.RISK_ALERT, alert)
    await console.settle()


def panel(console: Console) -> list[str]:
    return console.app.dashboard.query_one("#alerts").plain.splitlines()  # type: ignore[attr-defined]


def footer(console: Console) -> list[str]:
    return [key.description for key in console.app.screen.query(FooterKey)]


def title(console: Console) -> str:
    return str(console.app.dashboard.query_one("#alerts-box").border_title)


def test_identical_means_same_words_whatever_the_numbers() -> None:
    assert alert_key(refused(20)) == alert_key(refused(35))
    assert alert_key(refused(20)) != alert_key(refused(20, "NSE:ITC"))
    assert alert_key(refused(20)) != alert_key(refused(20, side=Side.BUY))
    book = AlertBook(max_lines=2)
    for index in range(5):
        book.add(refused(index + 1, "NSE:SBIN", at=index))
    book.add(refused(1, "NSE:ITC", at=9))
    book.add(refused(1, "NSE:TCS", at=10))
    assert [(line.alert.symbol, line.count) for line in book.lines()] == [
        ("NSE:TCS", 1),
        ("NSE:ITC", 1),
    ]  # bounded: the oldest line went first
    assert book.total == 7


async def test_repeated_warnings_collapse_into_one_line_with_count_and_last_time(
    console: Console,
) -> None:
    await publish_alerts(console, [refused(20 + i, at=i) for i in range(37)])
    shown = panel(console)
    text = " ".join(shown)
    assert "×37, last 10:15:36" in text  # START 10:15:00, the 37th at +36 s
    assert text.count("Rejected SELL") == 1  # one line (wrapped maybe), not 37
    assert shown[0].startswith("10:15:00 WARNING  trading_state")  # first time leads the line
    assert "Rejected SELL 56 NSE:SBIN" in text  # the newest alert's words


async def test_kill_alert_stays_pinned_under_50_warnings_until_acknowledged(
    console: Console, caplog: pytest.LogCaptureFixture
) -> None:
    await console.pilot.press("ctrl+k", "enter")
    await eventually(lambda: console.harness.read_model.alert_book.pinned, message="no kill alert")
    await console.settle()
    symbols = ("NSE:SBIN", "NSE:ITC", "NSE:INFY", "NSE:TCS", "NSE:RELIANCE")
    flood = [
        refused(10 + i, symbols[i % 5], at=i, side=(Side.BUY, Side.SELL)[i % 2]) for i in range(50)
    ]
    await publish_alerts(console, flood)
    shown = panel(console)
    assert shown[0].startswith("▲ ") and "CRITICAL" in shown[0] and "kill_switch" in shown[0]
    assert "1 pinned, a acknowledges" in title(console)
    assert "Ack" in footer(console)

    caplog.set_level(logging.INFO, logger="alphapanda.audit")
    await console.pilot.press("a")
    await console.settle()
    shown = panel(console)
    assert not shown[0].startswith("▲ ")
    assert "kill_switch" in " ".join(shown)  # still in the history, no longer on top
    assert title(console) == "Risk alerts"
    assert "Ack" not in footer(console)  # nothing left to acknowledge
    records = [r for r in caplog.records if r.name == "alphapanda.audit"]
    assert [r.getMessage() for r in records] == ["alerts acknowledged"]
    assert records[0].actor == "trader@desk"  # type: ignore[attr-defined]
    assert "Kill switch pressed" in records[0].alerts[0]  # type: ignore[attr-defined]


def test_last_time_is_the_newest_repeat() -> None:
    book = AlertBook()
    book.add(refused(5, at=0))
    line = book.add(refused(6, at=42))
    assert line.count == 2
    assert line.last_ts - line.first_ts == int(timedelta(seconds=42).total_seconds()) * NS


def test_critical_alerts_are_pinned_and_repeat_in_place() -> None:
    book = AlertBook(max_lines=3)
    halt = RiskAlert(severity=Severity.CRITICAL, rule="daily_loss", message="HALTED at -5,000")
    book.add(halt)
    for index in range(10):
        book.add(refused(1, f"NSE:S{index}", at=index))
    book.add(RiskAlert(severity=Severity.CRITICAL, rule="daily_loss", message="HALTED at -6,100"))
    assert [(line.alert.rule, line.count) for line in book.pinned] == [("daily_loss", 2)]
    assert book.lines()[0].pinned
    assert len(book.lines()) == 4  # the pinned one survives the bounded history
    assert [line.alert.rule for line in book.acknowledge()] == ["daily_loss"]
    assert not book.pinned


def test_snapshot_pinned_kill_over_collapsed_warnings(snap_compare) -> None:
    """120×40 after the kill and a flood of refusals: the kill on top, the refusals counted."""
    harness = BusHarness()
    app = make_app(harness, operator="trader@desk")

    async def run_before(pilot: Pilot) -> None:
        await eventually(lambda: harness.started)
        await seed(harness)
        await pilot.press("ctrl+k", "enter")
        await eventually(lambda: harness.read_model.alert_book.pinned)
        symbols = ("NSE:SBIN", "NSE:ITC")
        for index in range(40):
            alert = refused(20, symbols[index % 2], at=index + 1)
            await harness.publish(topics.SYSTEM_ALERTS, EventType.RISK_ALERT, alert)
        await harness.drained()
        app.refresh_from_model()
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)
