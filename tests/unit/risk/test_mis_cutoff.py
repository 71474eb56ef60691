"""No new MIS entry after the segment's cut-off until the next session; exits still pass."""

from __future__ import annotations

from datetime import datetime, time

from engine.clock import IST, datetime_to_ns
from engine.events.types import Product, Side
from engine.market.square_off import MisCutoffs
from tests.unit.risk.conftest import StartRisk
from tests.unit.risk.harness import limits


def ist(day: int, hh: int, mm: int, ss: int = 0) -> int:
    return datetime_to_ns(datetime(2024, 6, day, hh, mm, ss, tzinfo=IST))  # 3 Jun: a Monday


async def test_an_mis_entry_after_the_cutoff_is_refused_in_words(start_risk: StartRisk) -> None:
    risk = await start_risk(limits(mis_cutoffs=MisCutoffs()))

    before = await risk.submit(signal_ts=ist(3, 15, 14, 59))
    after = await risk.submit(signal_ts=ist(3, 15, 15))

    assert before.accepted
    assert after.rule == "mis_cutoff"
    assert after.reason == (
        "no new MIS entries after the NSE MIS cut-off 15:15 IST on 2024-06-03: "
        "BUY 10 NSE:INFY refused; exits are still allowed and MIS entries reopen at the "
        "next session"
    )


async def test_an_exit_after_the_cutoff_passes(start_risk: StartRisk) -> None:
    risk = await start_risk(limits(mis_cutoffs=MisCutoffs()))
    await risk.position(net=10, average="1500")

    exit_ = await risk.submit(side=Side.SELL, quantity=10, signal_ts=ist(3, 15, 20))
    flip = await risk.submit(side=Side.SELL, quantity=30, signal_ts=ist(3, 15, 20))

    assert exit_.accepted
    assert flip.rule == "mis_cutoff"  # selling past flat is a new short entry


async def test_cnc_is_not_bound_by_the_mis_cutoff(start_risk: StartRisk) -> None:
    risk = await start_risk(limits(mis_cutoffs=MisCutoffs()))

    assert (await risk.submit(product=Product.CNC, signal_ts=ist(3, 15, 20))).accepted


async def test_mis_entries_reopen_at_the_next_session(start_risk: StartRisk) -> None:
    risk = await start_risk(limits(mis_cutoffs=MisCutoffs()))

    evening = await risk.submit(signal_ts=ist(3, 23, 0))
    next_morning = await risk.submit(signal_ts=ist(4, 8, 0))  # before the 09:00 pre-open
    next_session = await risk.submit(signal_ts=ist(4, 9, 15))

    assert (evening.rule, next_morning.rule) == ("mis_cutoff", "mis_cutoff")
    assert next_session.accepted


async def test_the_cutoff_table_is_a_setting(start_risk: StartRisk) -> None:
    risk = await start_risk(limits(mis_cutoffs=MisCutoffs({"NSE": time(15, 25)})))

    assert (await risk.submit(signal_ts=ist(3, 15, 20))).accepted
    assert (await risk.submit(signal_ts=ist(3, 15, 25))).rule == "mis_cutoff"


async def test_an_empty_table_switches_the_rule_off(start_risk: StartRisk) -> None:
    risk = await start_risk(limits(mis_cutoffs=MisCutoffs({})))

    assert (await risk.submit(signal_ts=ist(3, 15, 29))).accepted
