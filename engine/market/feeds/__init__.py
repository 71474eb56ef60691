"""Market data feeds: simulated, replayed from CSV, and Kite tick conversion."""

from engine.market.feeds.base import FeedService, RejectedRow
from engine.market.feeds.kite_ticks import tick_from_kite
from engine.market.feeds.replay import ReplayFeed, ReplayFormatError, iter_replay, read_lines
from engine.market.feeds.simulated import SimulatedFeed, SimulatedFeedConfig, iter_ticks

__all__ = [
    "FeedService",
    "RejectedRow",
    "ReplayFeed",
    "ReplayFormatError",
    "SimulatedFeed",
    "SimulatedFeedConfig",
    "iter_replay",
    "iter_ticks",
    "read_lines",
    "tick_from_kite",
]
