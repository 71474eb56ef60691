"""The alert book after a restart: the day's stored alerts, the unread CRITICAL pinned."""

from __future__ import annotations

import json
from datetime import datetime

from engine.clock import IST, datetime_to_ns
from engine.domain.projection import project
from engine.domain.records import AuditRecord, RiskAlertRecord
from engine.events.payloads import RiskAlert
from engine.events.types import Broker, Severity
from engine.memory_store import MemoryTradingStore
from engine.read_model.alert_seed import (
    ACKNOWLEDGE,
    SEED_ALERTS,
    acknowledged_by,
    acknowledgement_detail,
    seed_alerts,
)
from engine.read_model.alerts import AlertLine, alert_key
from engine.read_model.model import ReadModel
from engine.read_model.run_clock import RunClock

S = 1_000_000_000
T0 = datetime_to_ns(datetime(2025, 1, 15, 10, 15, 0, tzinfo=IST))  # a Wednesday, open
DAY = 24 * 3600 * S


def halt(ts: int, broker: Broker = Broker.PAPER) -> RiskAlertRecord:
    return RiskAlertRecord(
        severity=Severity.CRITICAL,
        rule="daily_loss",
        message="Daily loss limit breached: trading HALTED",
        broker=broker,
        alert_ts=ts,
    )


def refusal(ts: int, quantity: int = 10) -> RiskAlertRecord:
    return RiskAlertRecord(
        severity=Severity.WARNING,
        rule="trading_state",
        message=f"Rejected BUY {quantity} NSE:SBIN: trading is HALTED",
        broker=Broker.PAPER,
        strategy="momo",
        symbol="NSE:SBIN",
        alert_ts=ts,
        signal_id=f"sig-{ts}",
    )


def sim_model(now: int | None = None) -> ReadModel:
    """A console on the simulated market, its clock where the store seed left it."""
    model = ReadModel(clock=RunClock(label="SIM"))
    model.event_ns = now
    return model


async def store_with(*alerts: RiskAlertRecord) -> MemoryTradingStore:
    store = MemoryTradingStore()
    for alert in alerts:
        await store.add_alert(alert)
    return store


def acknowledgement(at: int, detail: dict[str, object]) -> AuditRecord:
    return AuditRecord(audit_ts=at, actor="trader@desk", action=ACKNOWLEDGE, detail=detail)


def read(*alerts: RiskAlertRecord) -> list[AlertLine]:
    """The lines an operator acknowledged (each the newest alert of its line)."""
    return [AlertLine(project(RiskAlert, a), source_ts=a.alert_ts) for a in alerts]


async def test_the_days_alerts_are_shown_and_the_unread_halt_is_pinned() -> None:
    yesterday = halt(T0 - DAY)
    store = await store_with(yesterday, halt(T0), refusal(T0 + S), refusal(T0 + 2 * S, 20))
    model = sim_model()
    await seed_alerts(model, store, Broker.PAPER)
    (pinned,) = model.alert_book.pinned
    assert pinned.alert.rule == "daily_loss" and pinned.source_ts == T0
    assert pinned.count == 1  # yesterday's halt is not today's
    (history,) = model.alert_book.history()
    assert history.count == 2 and history.alert.message.startswith("Rejected BUY 20")
    assert len(model.alerts) == 3


async def test_a_halt_behind_a_flood_of_refusals_is_still_pinned() -> None:
    flood = [refusal(T0 + (i + 1) * S, i) for i in range(SEED_ALERTS + 50)]
    store = await store_with(halt(T0), *flood)
    model = sim_model(T0 + 3600 * S)
    await seed_alerts(model, store, Broker.PAPER)
    assert [line.alert.rule for line in model.alert_book.pinned] == ["daily_loss"]


async def test_an_acknowledged_halt_stays_read_and_a_later_one_pins_again() -> None:
    store = await store_with(halt(T0))
    detail = json.loads(json.dumps(acknowledgement_detail(read(halt(T0)))))  # a JSON column
    assert detail["alerts"] == ["daily_loss: Daily loss limit breached: trading HALTED"]
    await store.add_audit(acknowledgement(T0 + 5 * S, detail))
    model = sim_model(T0 + 60 * S)
    await seed_alerts(model, store, Broker.PAPER)
    assert model.alert_book.pinned == []
    assert model.alert_book.history()[0].alert.rule == "daily_loss"

    await store.add_alert(halt(T0 + 30 * S))  # halted again after the acknowledgement
    model = sim_model(T0 + 60 * S)
    await seed_alerts(model, store, Broker.PAPER)
    (pinned,) = model.alert_book.pinned
    assert pinned.source_ts == T0 + 30 * S


def test_a_row_recorded_before_the_lines_were_kept_is_judged_by_its_words_and_time() -> None:
    words: dict[str, object] = {
        "broker": "paper",
        "alerts": ["daily_loss: Daily loss limit breached: trading HALTED"],  # no "lines"
    }
    earlier, later = project(RiskAlert, halt(T0)), project(RiskAlert, halt(T0 + 30 * S))
    rows = [acknowledgement(T0 + 5 * S, words)]
    assert acknowledged_by(rows, [earlier, later], Broker.PAPER) == {alert_key(earlier): T0}
    zerodha = [acknowledgement(T0 + 60 * S, {**words, "broker": "zerodha"})]
    assert acknowledged_by(zerodha, [earlier], Broker.PAPER) == {}


async def test_the_other_brokers_alerts_are_not_seeded() -> None:
    store = await store_with(halt(T0, Broker.ZERODHA))
    model = sim_model(T0)
    await seed_alerts(model, store, Broker.PAPER)
    assert model.alert_book.lines() == [] and not model.alerts


def test_a_row_naming_its_lines_covers_them_whatever_clock_stamped_the_row() -> None:
    """On a simulated market the row carries the run's clock and a kill pulled before the
    first tick the wall clock: the line's own time decides, not the row's."""
    wall = T0 + 3600 * S
    kill = project(RiskAlert, halt(wall))
    rows = [acknowledgement(T0, acknowledgement_detail(read(halt(wall))))]
    assert acknowledged_by(rows, [kill], Broker.PAPER) == {alert_key(kill): wall}
