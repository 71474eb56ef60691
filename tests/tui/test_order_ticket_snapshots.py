"""SVG snapshots of a filled-in order ticket (LIMIT BUY of INFY) at 120×40 and over SSH at
80×24: every field, the registry's line for the instrument, the quantity and the buttons.

Deterministic: the harness's fixed morning, the shipped instruments, no order sent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from textual.pilot import Pilot

from alphapanda_tui.app import make_app
from engine.events.types import OrderType
from engine.instruments import load_default_registry
from screens.order_ticket import OrderTicketScreen
from tests.helpers import eventually
from tests.tui.harness import BusHarness, seed

SIZES = pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])


def _ticket_filled_in(harness: BusHarness) -> Callable[[Pilot], Awaitable[None]]:
    async def run_before(pilot: Pilot) -> None:
        await eventually(lambda: harness.started)
        await seed(harness)
        await harness.drained()
        pilot.app.refresh_from_model()  # type: ignore[attr-defined]
        await pilot.pause()
        await pilot.press("b")
        await eventually(lambda: isinstance(pilot.app.screen, OrderTicketScreen))
        screen = pilot.app.screen
        await eventually(lambda: getattr(pilot.app.focused, "id", None) == "ticket-symbol")
        assert isinstance(screen, OrderTicketScreen)
        await pilot.press(*"INFY")
        await eventually(lambda: screen.draft.instrument is not None)
        pilot.app.set_focus(screen.query_one("#ticket-quantity"))
        await pilot.press(*"10")
        await eventually(lambda: screen.draft.quantity == 10)
        await pilot.click("#ticket-type")  # MARKET → LIMIT
        await eventually(lambda: screen.order_type is OrderType.LIMIT)
        pilot.app.set_focus(screen.query_one("#ticket-price"))
        await pilot.press(*"1580.00")
        await eventually(lambda: screen.draft.ticket is not None)
        pilot.app.set_focus(screen.query_one("#ticket-review"))
        await pilot.pause(0.5)  # the type button's press effect is over
        screen.refresh_backdrop()  # the dimmed dashboard as drawn now, not mid-redraw
        await pilot.wait_for_scheduled_animations()
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()

    return run_before


@SIZES
def test_order_ticket(snap_compare, size: tuple[int, int]) -> None:
    harness = BusHarness("paper")
    harness.registry = load_default_registry()  # type: ignore[attr-defined]  # as the runtime has
    app = make_app(harness, operator="trader@desk")
    assert snap_compare(app, terminal_size=size, run_before=_ticket_filled_in(harness))
