"""Pinned CRITICAL alerts and acknowledgements that come from other consoles."""

from __future__ import annotations

from engine.events.payloads import AlertsAcknowledged, RiskAlert
from engine.events.types import Broker, Severity
from engine.read_model.alerts import AlertBook, alert_key, key_of_text, key_text
from engine.read_model.model import ReadModel
from engine.read_model.run_clock import RunClock

T0 = 1_797_400_000_000_000_000
S = 1_000_000_000


def kill(ts: int) -> RiskAlert:
    return RiskAlert(
        severity=Severity.CRITICAL,
        rule="kill_switch",
        message="Kill switch pressed by ops@desk",
        broker=Broker.PAPER,
        alert_ts=ts,
    )


def test_a_seeded_alert_replayed_is_one_alert_and_older_ones_do_not_hide_the_newest() -> None:
    book = AlertBook()
    book.add(kill(T0 + 9 * S))  # seeded from the cache
    book.add(kill(T0))  # the replay: an older one
    line = book.add(kill(T0 + 9 * S))  # the seeded one again
    assert line.count == 2 and line.pinned
    assert line.last_ts == T0 + 9 * S and line.first_ts == T0


def test_an_acknowledgement_unpins_up_to_its_time_and_a_later_alert_pins_again() -> None:
    book = AlertBook()
    book.add(kill(T0 + 5 * S))
    assert book.acknowledged_elsewhere([kill(T0)]) == []  # read an older one: still pinned
    assert len(book.pinned) == 1
    assert len(book.acknowledged_elsewhere([kill(T0 + 5 * S)])) == 1
    assert book.pinned == []
    book.add(kill(T0 + 2 * S))  # replayed after the ack: stays read
    assert book.pinned == []
    book.add(kill(T0 + 60 * S))  # a new kill
    assert [line.alert.alert_ts for line in book.pinned] == [T0 + 60 * S]


def test_an_alert_shown_at_the_run_clock_is_acknowledged_at_its_source_time() -> None:
    """On a simulated market a wall-stamped alert is shown at the run's clock; the other
    consoles and the cache know it by its own time."""
    wall = T0 + 3600 * S
    model = ReadModel(clock=RunClock(label="SIM"))
    model.wall_ns = lambda: wall
    model.event_ns = T0
    model.apply_alert(kill(wall))
    line = model.alert_book.pinned[0]
    assert line.last_ts == T0 and line.source_ts == wall
    model.apply_alerts_acknowledged(AlertsAcknowledged(alerts=(kill(wall),)))
    assert model.alert_book.pinned == []


def test_alert_keys_survive_a_round_trip_through_text() -> None:
    key = alert_key(kill(T0))
    assert key_of_text(key_text(key)) == key
