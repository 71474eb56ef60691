"""``alphapanda --replay DATE``: the console on a recorded day, wired from the tick store.

A replay trades paper on a store of its own, ``<home>/replays/<DATE>/``: a fresh SQLite
file each run (so a replay starts flat and the same day replays to the same orders), its
own pid file (``alphapanda kill`` and ``status`` keep finding the trader's real engine),
the in-process bus and no Redis cache (a replay never reaches a cluster or the read model
attached consoles watch) and tick recording off (a replay must not overwrite or double the
day it replays). The trader's paper and live databases are never opened. The replay's
orders stay in that directory afterwards: ``alphapanda --home <home>/replays/<DATE>
orders --all`` lists them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from alphapanda_tui import engine_config
from alphapanda_tui.errors import UsageError
from alphapanda_tui.runtime import EngineRuntime
from alphapanda_tui.settings import Settings
from alphapanda_tui.tick_store import SIMULATED_DIR
from engine.bus.base import EventBus
from engine.events.payloads import Tick
from engine.instruments import InstrumentRegistry
from engine.market.feeds.paced_replay import PacedReplayFeed, ReplayClock
from engine.read_model.run_clock import RunClock

REPLAYS_DIR = "replays"
REPLAY_DB = "alphapanda.db"  # the default name: `--home <replay home>` commands find it


@dataclass(frozen=True, slots=True)
class RecordedDay:
    """A day the tick store holds: where, which, and its first tick's time (UTC ns)."""

    root: Path
    day: date
    first_ts: int


def tick_stores(settings: Settings) -> tuple[Path, Path]:
    """Where recorded days are looked for: the real market's store first, then the
    simulated market's (kept apart by ``alphapanda_tui.tick_store``)."""
    configured = settings.ticks.dir
    base = configured.expanduser() if configured else settings.home / "ticks"
    return base, base / SIMULATED_DIR


def recorded_day(roots: Sequence[Path], text: str) -> RecordedDay:
    """The day ``text`` names, from the first store that holds it; ``UsageError`` (exit 2)
    listing the recorded days when it is not a date or nothing of it was recorded."""
    from storage.ticks.reader import list_days

    found = [
        RecordedDay(root, summary.day, summary.first_ts)
        for root in roots
        for summary in list_days(root)
        if summary.ticks and summary.first_ts is not None
    ]
    listing = ", ".join(_named(found_day, roots) for found_day in found) or "none"
    try:
        day = date.fromisoformat(text)
    except ValueError:
        wanted = f"--replay wants a date YYYY-MM-DD, got {text!r}"
        raise UsageError(f"{wanted}; recorded days: {listing}") from None
    for recorded in found:
        if recorded.day == day:
            return recorded
    raise UsageError(f"no ticks recorded on {day.isoformat()}; recorded days: {listing}")


def _named(recorded: RecordedDay, roots: Sequence[Path]) -> str:
    simulated = recorded.root != roots[0]
    return recorded.day.isoformat() + (" (simulated market)" if simulated else "")


def replay_settings(settings: Settings, day: date) -> Settings:
    """``settings`` turned into an isolated paper run under ``<home>/replays/<DATE>``."""
    home = settings.home / REPLAYS_DIR / day.isoformat()
    update: dict[str, Any] = {
        "home": home,
        "mode": "paper",
        "database": settings.database.model_copy(
            update={"url": f"sqlite+aiosqlite:///{home / REPLAY_DB}"}
        ),
        "bus": settings.bus.model_copy(update={"backend": "memory"}),
        "redis": settings.redis.model_copy(update={"url": None}),
    }
    update["ticks"] = settings.ticks.model_copy(update={"record": False})
    return settings.model_copy(update=update)


def fresh_store(settings: Settings) -> None:
    """Remove the previous replay's database of this day: each replay starts flat."""
    settings.ensure_home()
    for suffix in ("", "-wal", "-shm", "-journal"):
        (settings.home / f"{REPLAY_DB}{suffix}").unlink(missing_ok=True)


def replay_read_clock(settings: Settings, clock: ReplayClock) -> RunClock:
    """The console's clock: REPLAY, the replayed time, and the feed's age in replayed time
    (a paused replay is not a stale feed)."""
    return RunClock(
        label="REPLAY",
        calendar=engine_config.calendar(settings),
        stale_after_s=settings.feed.stale_after_s,
        monotonic_ns=clock.now_ns,
        follows_events=False,
    )


class ReplayRuntime(EngineRuntime):
    """The embedded paper engine on a recorded day; ``replay`` is the feed the keys steer."""

    def __init__(
        self,
        settings: Settings,
        *,
        day: date,
        ticks: Iterable[Tick],
        clock: ReplayClock,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            settings,
            clock=clock,
            feed_factory=self._feed,
            read_clock=replay_read_clock(settings, clock),
            **kwargs,
        )
        self.replay: PacedReplayFeed | None = None
        self._day = day
        self._ticks = ticks
        self._replay_clock = clock

    def _feed(self, bus: EventBus, registry: InstrumentRegistry) -> PacedReplayFeed:
        self.replay = PacedReplayFeed(
            bus,
            self._ticks,
            day=self._day,
            clock=self._replay_clock,
            on_status=self.read_model.set_replay,
            ready=self._consumers_joined,
        )
        self.read_model.set_replay(self.replay.replay_status())
        return self.replay

    async def _consumers_joined(self) -> None:
        while self.pipeline is None:  # the feed is built before the pipeline it joins
            await asyncio.sleep(0.01)
        await self.pipeline.wait_ready()


def build_replay_runtime(
    settings: Settings, day_text: str, *, speed: float | None = 1.0, **kwargs: Any
) -> ReplayRuntime:
    """The console's engine for ``--replay DATE``: exit 2 (listing the recorded days)
    when the day was not recorded."""
    recorded = recorded_day(tick_stores(settings), day_text)
    isolated = replay_settings(settings, recorded.day)
    fresh_store(isolated)
    clock = ReplayClock(recorded.first_ts, speed=speed)
    ticks = day_ticks(recorded.root, recorded.day)
    return ReplayRuntime(isolated, day=recorded.day, ticks=ticks, clock=clock, **kwargs)


def day_ticks(root: Path, day: date) -> Iterator[Tick]:
    """The day's ticks, read when the feed starts (not while the command line is parsed)."""
    from storage.ticks.reader import iter_day_ticks

    yield from iter_day_ticks(root, day)
