"""Every key the footer shows fits on an 80x24 terminal, whole: in the books and on the
dashboard.

Seen by a trader at 80 columns: in the orders book, with a CRITICAL alert pinned (its
``a Ack`` key appears) or in live mode (``^l Login``), the footer ran under the palette key
and ``q Quit`` was cut; on the live dashboard with an alarm pinned, ``q Quit`` too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from textual.widgets._footer import FooterKey

from engine.events.payloads import RiskAlert
from engine.events.types import Severity
from tests.helpers import eventually
from tests.tui.conftest import Console
from tests.tui.harness import START_NS, BusHarness
from tests.tui.test_screen_truth import _console


@pytest.fixture(params=["paper", "live"])
async def console(request: pytest.FixtureRequest) -> AsyncIterator[Console]:
    async with _console(BusHarness(request.param), (80, 24)) as console:
        kill = RiskAlert(
            severity=Severity.CRITICAL, rule="kill_switch", message="k", alert_ts=START_NS
        )
        console.harness.read_model.apply_alert(kill)  # pinned: the footer shows a Ack
        await console.settle()
        # The pinned alarm's key recomposes the footer: under load its keys can still be
        # unmounted after settle (clean-clone CI: no key at all), so wait for them drawn.
        await eventually(
            lambda: "a Ack" in [text for text, _, _ in shown_keys(console)],
            message="the footer's keys were not drawn",
        )
        yield console


def shown_keys(console: Console) -> list[tuple[str, int, int]]:
    """Each key of the footer as drawn: its text and the columns where it starts and ends."""
    return [
        (f"{key.key_display} {key.description}", key.region.x, key.region.right)
        for key in console.app.screen.query(FooterKey)
        if key.display
    ]


def cut_keys(keys: list[tuple[str, int, int]]) -> list[str]:
    """The keys that run under the palette key at the right edge (or off the screen)."""
    (palette,) = [(left, right) for text, left, right in keys if text == "^p palette"]
    assert palette[1] <= 80  # docked at the right edge, over whatever runs under it
    return [text for text, _, right in keys if text != "^p palette" and right > palette[0]]


async def test_every_key_of_the_dashboards_footer_fits_at_80_columns(console: Console) -> None:
    keys = shown_keys(console)
    texts = [text for text, _, _ in keys]
    assert {"^k Kill", "r Resume", "a Ack", "q Quit"} <= set(texts), texts
    assert not cut_keys(keys), texts


async def test_a_key_that_gave_way_at_80_columns_is_back_when_wider() -> None:
    async with _console(BusHarness("live"), (80, 24)) as console:
        kill = RiskAlert(
            severity=Severity.CRITICAL, rule="kill_switch", message="k", alert_ts=START_NS
        )
        console.harness.read_model.apply_alert(kill)
        await console.settle()
        assert "l Logs" not in [text for text, _, _ in shown_keys(console)]
        await console.pilot.resize_terminal(120, 40)
        await console.pilot.pause()
        await console.pilot.pause()
        assert "l Logs" in [text for text, _, _ in shown_keys(console)]


@pytest.mark.parametrize("book", ["o", "t"])
async def test_every_key_of_a_books_footer_fits_at_80_columns(console: Console, book: str) -> None:
    await console.pilot.press(book)
    await console.settle()
    await console.pilot.pause()
    keys = shown_keys(console)
    texts = [text for text, _, _ in keys]
    assert "q Quit" in texts and "^k Kill" in texts and "esc Back" in texts, texts
    assert "a Ack" in texts, texts  # the pinned alarm's key stays
    assert not cut_keys(keys), f"cut at 80 columns: {cut_keys(keys)} of {texts}"


async def test_resume_still_answers_in_a_book_though_not_in_its_footer() -> None:
    from engine.events.types import TradingMode
    from engine.trading_state.state import GLOBAL_SCOPE
    from screens.confirm import ConfirmScreen

    async with _console(BusHarness(), (80, 24)) as console:
        console.harness.read_model.set_trading_state(GLOBAL_SCOPE, TradingMode.HALTED, "kill")
        await console.pilot.press("o")
        await console.settle()
        assert "r Resume" not in [text for text, _, _ in shown_keys(console)]
        await console.pilot.press("r")
        await console.pilot.pause()
        assert isinstance(console.app.screen, ConfirmScreen)
