"""The console under load: kill-switch latency and redraw rate while 5,000 ticks/s arrive.

The real embedded engine (strategies → risk → paper execution → portfolio, memory store)
runs under a headless console; a task publishes ticks for 500 instruments to the bus at
``--rate`` ticks/s (every tick a new event through the real bus, paced in the small
batches a market-data socket delivers). Each round presses ctrl+k, waits until the dialog
has been drawn (as a trader would; ``--enter-on-push`` presses at once), presses Enter and
times, where they happen, the header's text turning HALTED (``enter_to_halted_ms``) and
the first frame drawn with it (``enter_to_halted_painted_ms``: the compositor rendered
the header), then resumes (r, Resume) and waits for ACTIVE.

Then the order ticket under the same feed: ``b`` opens it and keys are typed into its
instrument field (the registry searched as you type) and its quantity field; each key is
timed from the press to the ticket re-reading its fields (``ticket_key_to_draft_ms``) and
to the first frame that draws the field with the key in it (``ticket_key_to_painted_ms``,
the number a trader feels). Last, the kill switch with the ticket open: ``ctrl+k``, Enter
over the ticket, timed as above (``ticket_open_enter_to_halted_painted_ms``).
Prints one JSON object.
Run: ``python benchmarks/console.py [--presses 30] [--rate 5000] [--keys 120] [--enter-on-push]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import platform
import sys
import tempfile
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import textual.app
import textual.pilot

from alphapanda_tui.app import make_app
from alphapanda_tui.runtime import Ports, build_runtime
from alphapanda_tui.settings import load_settings
from benchmarks.stats import summary
from engine.bus.memory import MemoryBus
from engine.clock import IST, ManualClock, datetime_to_ns
from engine.events import topics
from engine.events.envelope import new_event
from engine.events.payloads import Tick
from engine.events.types import EventType
from engine.memory_store import MemoryTradingStore
from screens.confirm import ConfirmScreen
from screens.kill_confirm import KillConfirmScreen
from screens.order_ticket import OrderTicketScreen

INSTRUMENTS = 500
FIRST_TOKEN = 10_000
SESSION_START_NS = datetime_to_ns(datetime(2025, 1, 15, 9, 20, tzinfo=IST))
HEADER = "instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,"
HEADER += "tick_size,lot_size,instrument_type,segment,exchange\n"
STRATEGIES = """\
strategies:
  - name: momo
    kind: momentum
    params: {{lookback: 3, threshold: 0.001, quantity: 1, allow_short: true}}
    instruments: [{momo}]
  - name: revert
    kind: mean_reversion
    params: {{window: 5, entry_z: 1.0, exit_z: 0.2, quantity: 1, allow_short: true}}
    instruments: [{revert}]
"""


def write_home(home: Path) -> tuple[Path, Path]:
    """A 500-instrument registry and two strategies trading 20 of them each."""
    rows = [
        f"{FIRST_TOKEN + i},{i + 1},SYM{i:03d},SYMBOL {i},{100 + i}.00,,0,0.05,1,EQ,NSE,NSE\n"
        for i in range(INSTRUMENTS)
    ]
    instruments = home / "instruments.csv"
    instruments.write_text(HEADER + "".join(rows))
    strategies = home / "strategies.yaml"
    strategies.write_text(
        STRATEGIES.format(
            momo=", ".join(f"NSE:SYM{i:03d}" for i in range(20)),
            revert=", ".join(f"NSE:SYM{i:03d}" for i in range(20, 40)),
        )
    )
    return instruments, strategies


async def publish_ticks(bus: MemoryBus, rate: float, stop: asyncio.Event) -> int:
    """Rounds of one tick per instrument, paced to ``rate`` ticks/s of wall time.

    Each tick is a new event (own id, price and time) published to the bus; symbols and
    prices are prepared once, and the task publishes whatever is due, then sleeps ~2 ms.
    """
    loop = asyncio.get_running_loop()
    started, sent, step = loop.time(), 0, 0
    prices = [10_000 * 20 + i * 20 for i in range(INSTRUMENTS)]  # in ticks of 0.05
    symbols = [f"NSE:SYM{i:03d}" for i in range(INSTRUMENTS)]
    keys = [str(FIRST_TOKEN + i) for i in range(INSTRUMENTS)]
    decimals: dict[int, Decimal] = {}  # price in ticks of 0.05 → its Decimal, made once
    moves = [(-1, 0, 1)[(s * 7 + i * 13) % 3] for s in range(3) for i in range(INSTRUMENTS)]
    while not stop.is_set():
        step += 1
        event_ts = SESSION_START_NS + step * 1_000_000_000
        phase = (step % 3) * INSTRUMENTS
        for index in range(INSTRUMENTS):
            price = prices[index] = prices[index] + moves[phase + index]
            last = decimals.get(price)
            if last is None:
                last = decimals[price] = Decimal(price) * Decimal("0.05")
            tick = Tick(
                instrument_token=FIRST_TOKEN + index,
                symbol=symbols[index],
                last_price=last,
                exchange_ts=event_ts,
                last_quantity=1,
                ask_quantity=100,
                bid_quantity=100,
            )
            key = keys[index]
            event = new_event(EventType.MARKET_TICK, tick, source="bench", key=key, ts_ns=event_ts)
            if not bus.publish_nowait(topics.MARKET_TICKS, event, key):
                await bus.publish(topics.MARKET_TICKS, event, key)  # back-pressure: wait
            sent += 1
            ahead = started + sent / rate - loop.time()
            if ahead > 0.002:
                await asyncio.sleep(ahead)
    return sent


async def _one_turn(min_sleep: float = 0.0, max_sleep: float = 1.0) -> None:
    await asyncio.sleep(0.001)


async def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.001)


async def run(
    presses: int, rate: float, keys: int, enter_on_push: bool = False
) -> dict[str, object]:
    # The engine keeps the CPU busy, so Pilot's wait-for-idle would add ~1 s per key.
    textual.app.wait_for_idle = _one_turn  # type: ignore[assignment]  # patched on purpose
    textual.pilot.wait_for_idle = _one_turn  # type: ignore[assignment]  # patched on purpose
    home = Path(tempfile.mkdtemp(prefix="alphapanda-bench-"))
    instruments, strategies = write_home(home)
    settings = load_settings(
        home=home,
        strategies_file=strategies,
        feed={"instruments_csv": instruments},
        risk={"max_open_orders": 1000, "max_orders_per_second": 1000},
    )
    bus = MemoryBus(partitions=4, capacity=50_000)
    await bus.start()
    store = MemoryTradingStore()
    clock = ManualClock(SESSION_START_NS)
    runtime = build_runtime(
        settings, clock=clock, feed_factory=lambda _bus, _reg: None, ports=Ports(bus, store)
    )
    app = make_app(runtime, operator="bench@desk")
    header = None
    halt_ms: list[float] = []
    painted_ms: list[float] = []
    seen: dict[str, float] = {}  # when the header's text, then a painted frame, said HALTED
    total_ms: list[float] = []
    dialog_ms: list[float] = []
    shown: list[object] = [None]  # the screen of the latest frame the app displayed
    stop = asyncio.Event()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: app.engine_running)
        header = app.dashboard.query_one("#header")
        watch_header(header, seen)
        watch_display(app, shown)
        feed = asyncio.create_task(publish_ticks(bus, rate, stop))
        await wait_for(lambda: runtime.read_model.ticks_seen > 2 * INSTRUMENTS)
        ticks_before, refresh_before = runtime.read_model.ticks_seen, app.refresh_count
        cpu_before, wall_before = time.process_time(), time.monotonic()
        for _ in range(presses):
            started = time.perf_counter()
            confirm, halted = await kill(pilot, app, header, seen, shown, enter_on_push)
            dialog_ms.append((confirm - started) * 1000)
            halt_ms.append((halted["text"] - confirm) * 1000)
            painted_ms.append((halted["painted"] - confirm) * 1000)
            total_ms.append((halted["painted"] - started) * 1000)
            await resume(pilot, app, header, shown, enter_on_push)
        wall = time.monotonic() - wall_before
        draft_ms, key_ms = await ticket_keys(pilot, app, keys)
        ticket_kill_ms = await kills_over_ticket(pilot, app, header, seen, shown, presses)
        cpu = time.process_time() - cpu_before
        ticks = runtime.read_model.ticks_seen - ticks_before
        refreshes = app.refresh_count - refresh_before
        stop.set()
        sent = await feed
        orders = len(store.orders)
    await bus.aclose()
    return {
        "benchmark": "console",
        "python": platform.python_version(),
        "instruments": INSTRUMENTS,
        "target_ticks_per_s": rate,
        "ticks_per_s_seen": round(ticks / wall),
        "ticks_published": sent,
        "orders_created": orders,
        "presses": presses,
        "enter_to_halted_ms": summary(halt_ms),
        "enter_to_halted_painted_ms": summary(painted_ms),
        "ctrl_k_to_halted_painted_ms": summary(total_ms),
        "ctrl_k_to_dialog_ms": summary(dialog_ms),
        "ticket_keys": len(key_ms),
        "ticket_key_to_draft_ms": summary(draft_ms),
        "ticket_key_to_painted_ms": summary(key_ms),
        "ticket_open_enter_to_halted_painted_ms": summary(ticket_kill_ms),
        "enter": "on push" if enter_on_push else "once the dialog is displayed",
        "refreshes_per_s": round(refreshes / wall, 2),
        "refresh_hz": app.refresh_hz,
        "cpu_s": round(cpu, 2),
        "wall_s": round(wall, 2),
        "cpu_share": round(cpu / wall, 2),
    }


async def kill(
    pilot: Any, app: Any, header: Any, seen: dict[str, float], shown: list[object], on_push: bool
) -> tuple[float, dict[str, float]]:
    """ctrl+k, then Enter once the dialog is displayed: when Enter was pressed, and when
    the header's text, then a painted frame, read HALTED."""
    await pilot.press("ctrl+k")
    await wait_for(lambda: isinstance(app.screen, KillConfirmScreen))
    if not on_push:  # as a trader would: Enter once the dialog is on screen
        await wait_for(lambda: isinstance(shown[-1], KillConfirmScreen))
    confirm = time.perf_counter()
    seen.clear()
    await pilot.press("enter")
    await wait_for(lambda: "HALTED" in header.line and "painted" in seen)
    return confirm, dict(seen)


async def resume(pilot: Any, app: Any, header: Any, shown: list[object], on_push: bool) -> None:
    await pilot.press("r")
    await wait_for(lambda: isinstance(app.screen, ConfirmScreen))
    if not on_push:
        await wait_for(lambda: isinstance(shown[-1], ConfirmScreen))
    await pilot.press("left", "enter")
    await wait_for(lambda: "ACTIVE" in header.line)


# Typed over and over: a symbol search narrowing to one of 500 instruments and back, then
# a quantity typed and erased (every key changes the field, so every key redraws it).
SYMBOL_KEYS = [*"SYM012", *["backspace"] * 6]
QUANTITY_KEYS = [*"250", *["backspace"] * 3]


async def open_ticket(pilot: Any, app: Any) -> OrderTicketScreen:
    await pilot.press("b")
    await wait_for(lambda: isinstance(app.screen, OrderTicketScreen))
    await wait_for(lambda: getattr(app.focused, "id", None) == "ticket-symbol")
    screen = app.screen
    assert isinstance(screen, OrderTicketScreen)
    return screen


async def close_ticket(pilot: Any, app: Any) -> None:
    await pilot.press("escape")
    await wait_for(lambda: not isinstance(app.screen, OrderTicketScreen))


async def ticket_keys(pilot: Any, app: Any, count: int) -> tuple[list[float], list[float]]:
    """``count`` keys typed into the ticket: each one's press → the ticket's new draft,
    and press → the first frame that draws the field holding the key."""
    screen = await open_ticket(pilot, app)
    drafts: dict[str, float] = {}
    draw = screen._draw

    def drawing() -> None:
        draw()
        drafts.setdefault("draft", time.perf_counter())

    screen._draw = drawing  # type: ignore[method-assign]  # timed where it happens
    draft_ms: list[float] = []
    painted_ms: list[float] = []
    fields = [("#ticket-symbol", SYMBOL_KEYS), ("#ticket-quantity", QUANTITY_KEYS)]
    typed = 0
    while typed < count:
        for selector, sequence in fields:
            field = screen.query_one(selector)
            app.set_focus(field)
            await wait_for(lambda field=field: app.focused is field)
            painted = watch_painted(field)
            for key in sequence[: count - typed]:
                before = field.value
                drafts.clear()
                painted.clear()
                started = time.perf_counter()
                await pilot.press(key)
                await wait_for(
                    lambda f=field, b=before, p=painted: f.value != b and "draft" in drafts and p
                )
                draft_ms.append((drafts["draft"] - started) * 1000)
                painted_ms.append((painted["painted"] - started) * 1000)
                typed += 1
    await close_ticket(pilot, app)
    return draft_ms, painted_ms


async def kills_over_ticket(
    pilot: Any, app: Any, header: Any, seen: dict[str, float], shown: list[object], rounds: int
) -> list[float]:
    """With a ticket open and a symbol typed: ctrl+k, Enter (once drawn) → HALTED painted;
    then the ticket is closed and trading resumed for the next round."""
    painted_ms: list[float] = []
    for _ in range(rounds):
        await open_ticket(pilot, app)
        await pilot.press(*"SYM0")
        confirm, halted = await kill(pilot, app, header, seen, shown, on_push=False)
        painted_ms.append((halted["painted"] - confirm) * 1000)
        await wait_for(lambda: isinstance(app.screen, OrderTicketScreen))
        await close_ticket(pilot, app)
        await resume(pilot, app, header, shown, on_push=False)
    return painted_ms


def watch_painted(widget: Any) -> dict[str, float]:
    """When the compositor next asks ``widget`` for its lines after ``clear()``: a frame
    drawing it is being rendered (one watch per widget, re-armed by clearing it)."""
    seen: dict[str, float] = getattr(widget, "_bench_painted", None) or {}
    if getattr(widget, "_bench_painted", None) is None:
        render_lines = widget.render_lines

        def rendering(crop: Any) -> Any:
            lines = render_lines(crop)
            seen.setdefault("painted", time.perf_counter())
            return lines

        widget.render_lines = rendering
        widget._bench_painted = seen
    return seen


def watch_header(header: Any, seen: dict[str, float]) -> None:
    """Record when the header's text first reads HALTED, and when a frame with it is drawn.

    Timed where it happens (not when Pilot returns from the key press, which waits for
    every widget's queue to drain). ``render_lines`` is what a screen update asks a widget
    for: the first time it is asked while the text reads HALTED, a frame with it is drawn.
    """
    update, render_lines = header.update, header.render_lines

    def updating(*args: Any, **kwargs: Any) -> None:
        update(*args, **kwargs)
        if "text" not in seen and "HALTED" in header.line:
            seen["text"] = time.perf_counter()

    def rendering(crop: Any) -> Any:
        lines = render_lines(crop)
        if "painted" not in seen and "text" in seen:
            seen["painted"] = time.perf_counter()
        return lines

    header.update, header.render_lines = updating, rendering


def watch_display(app: Any, shown: list[object]) -> None:
    """Record the screen of every frame the app hands to its driver (headless: dropped)."""
    display = app._display

    def recording(screen: Any, renderable: Any) -> None:
        display(screen, renderable)
        if renderable is not None:
            shown[-1] = screen

    app._display = recording


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presses", type=int, default=30)
    parser.add_argument("--rate", type=float, default=5000.0)
    parser.add_argument("--keys", type=int, default=120, help="keys typed into the ticket")
    parser.add_argument(
        "--enter-on-push",
        action="store_true",
        help="press Enter as soon as the dialog is pushed, before it is drawn (the old way)",
    )
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    print(json.dumps(asyncio.run(run(args.presses, args.rate, args.keys, args.enter_on_push))))


if __name__ == "__main__":
    main()
