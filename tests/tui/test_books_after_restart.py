"""The orders book after a restart reads as it did before: every status an order was
stored in (not only its last) and the day's risk refusals, from the real SQLite store.

A first console trades on the seeded market with the whale's orders refused by risk and
stops; a second one on the same database runs with no feed, so all it shows is stored.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from engine.events.types import OrderStatus
from screens.order_detail import OrderDetailScreen
from screens.orders_book import OrdersBookScreen
from tests.helpers import eventually
from tests.tui.test_books import _book, _drawn, whale_refused_settings
from tests.tui.test_real_runtime import (  # noqa: F401  # the autouse fixture, active here too
    RealConsole,
    keys_do_not_wait_for_an_idle_cpu,
)
from tests.tui.test_restart_shows_the_day import console_on as restarted
from widgets.book_tables import OrdersBookTable


@asynccontextmanager
async def console_on(home: Path, *, ticking: bool) -> AsyncIterator[RealConsole]:
    """The real console on ``home``'s SQLite store, the whale refused; a feed if ``ticking``."""
    async with restarted(home, ticking=ticking, settings=whale_refused_settings) as (app, pilot):
        yield RealConsole(app, pilot, app.handle, None)  # type: ignore[arg-type]  # SQLite


def _statuses(console: RealConsole, coid: str) -> list[str]:
    return [step.status.value for step in console.runtime.read_model.books.steps_of(coid)]


async def test_the_orders_book_keeps_every_status_and_the_refusals_after_a_restart(
    isolated_home: Path,
) -> None:
    async with console_on(isolated_home, ticking=True) as first:
        books = first.runtime.read_model.books

        def travelled() -> str | None:  # a filled order seen in at least three states
            for coid, update in first.runtime.read_model.orders.items():
                if update.status is OrderStatus.FILLED and len(books.steps_of(coid)) >= 3:
                    return coid
            return None

        await eventually(lambda: travelled() is not None, timeout=15, message="nothing filled")
        await eventually(lambda: books.rejections, timeout=15, message="no refusal")
        coid = travelled()
        assert coid is not None
        seen = _statuses(first, coid)
        refusal = next(iter(books.rejections.values()))
        await first.app.stop_engine()
    async with console_on(isolated_home, ticking=False) as again:
        await again.pilot.press("o")
        book = await _book(again, OrdersBookScreen, OrdersBookTable)
        await again.pilot.press("2")  # all
        await eventually(lambda: coid in book.row_keys, message="the filled order is not listed")
        book.cursor_row = book.row_keys.index(coid)
        await again.pilot.press("enter")
        await eventually(lambda: isinstance(again.app.screen, OrderDetailScreen))
        history = await _drawn(again, "#detail-history")
        # every state the order was stored in, in order: the outbox write (PENDING) first,
        # then each one seen live (SUBMITTED is announced with the venue's answer, in the
        # same instant, and only that answer is stored)
        stored = ["PENDING", *(status for status in seen if status != "SUBMITTED")]
        positions = [history.find(status) for status in stored]
        assert -1 not in positions and positions == sorted(positions), (stored, history)
        assert again.runtime.read_model.ticks_seen == 0  # all of it came from the store

        await again.pilot.press("escape")
        await again.pilot.press("3")  # rejected
        await eventually(lambda: refusal.signal_id in book.row_keys, message="refusal lost")
        assert book.cell_text(refusal.signal_id, "reason") == refusal.reason
        assert book.cell_text(refusal.signal_id, "status") == "REJECTED"
