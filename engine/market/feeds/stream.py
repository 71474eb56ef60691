"""A feed over any iterable of ticks: recorded days and tick files the composition root
loaded, so the engine replays them without ever importing the store."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from engine.bus.base import EventBus
from engine.events.payloads import Tick
from engine.market.feeds.base import FeedService, RejectedRow

TickItems = Iterable[Tick | RejectedRow]


class TickStreamFeed(FeedService):
    """Publishes what ``open_ticks()`` yields; rejected rows become dead letters.

    ``open_ticks`` is called once, when the feed starts, so loading a file is part of the
    run (and of its timing) rather than of building the feed.
    """

    def __init__(
        self,
        bus: EventBus,
        open_ticks: Callable[[], TickItems],
        *,
        name: str = "stream-feed",
    ) -> None:
        super().__init__(name=name, bus=bus, ticks_per_second=None)
        self.open_ticks = open_ticks

    def items(self) -> Iterator[Tick | RejectedRow]:
        return iter(self.open_ticks())
