"""A driver's hand-over to a ``StreamProcessor``: how the lockstep backtest runs a stage inline.

``engine.lockstep`` takes a stage's records from its subscription itself and hands them
over here instead of waking the stage's task per tick; the records still go through the
processor's one contract (dedup, ``handle_now`` / ``handle``, retries, dead letters,
commit). Kept apart from ``processor.py`` so that module stays the consuming loop; the
base class mixes this in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from engine.bus.base import Record, Subscription
from engine.events.envelope import EventEnvelope
from engine.processing.circuit import BreakerState, CircuitBreaker
from engine.processing.config import ProcessorStats
from engine.processing.dedup import DedupStore, GroupWindow, MemoryDedupWindow

log = logging.getLogger("alphapanda.processing")
_DEBUG = logging.DEBUG
_CLOSED = BreakerState.CLOSED

# ``deliver_one_now``'s outcomes
LEFT = 0  # not begun: ``deliver`` takes the record from the start
DONE = 1  # handled (or a duplicate skipped): committable
BEGUN = 2  # ``handle_now`` raised or left it to ``handle``: ``deliver`` goes on


class DriverHandover:
    """``deliver_now`` and ``deliver``: a stage's input handed over inline by a driver."""

    # set by ``StreamProcessor.__init__``
    name: str
    group: str
    dedup: DedupStore
    breaker: CircuitBreaker
    stats: ProcessorStats
    begun: bool
    _begun_failure: Exception | None
    _fast: bool
    _handle_now: Callable[[EventEnvelope], bool]
    _fast_window: GroupWindow | None
    _subscription: Subscription | None

    def _init_handover(self, has_fast_path: bool) -> None:
        self.begun = False  # see ``deliver_now``
        self._begun_failure = None
        self._fast = has_fast_path and type(self.dedup) is MemoryDedupWindow
        self._handle_now = self.handle_now  # bound once: ``deliver_now`` calls it per tick
        self._fast_window = None  # ``deliver_now``'s, until a forget

    if TYPE_CHECKING:  # the consuming loop's steps, in ``StreamProcessor``

        def handle_now(self, envelope: EventEnvelope) -> bool: ...

        def _skip_duplicate(self, record: Record, debug: bool) -> None: ...

        async def _handle_records(
            self, records: list[Record], window: GroupWindow | None, debug: bool
        ) -> int: ...

        async def _attempts(
            self,
            record: Record,
            window: GroupWindow | None,
            debug: bool,
            attempt: int,
            failure: Exception | None,
        ) -> bool: ...

        async def _handle_fully(self, envelope: EventEnvelope, debug: bool) -> None: ...

    def deliver_now(self, records: list[Record]) -> int:
        """Handle the leading records that complete without an await; returns how many.

        The synchronous part of ``_handle_records`` (dedup in the memory window, then
        ``handle_now``), for a driver that hands a stage its input inline: a tick most
        stages only note then costs no coroutine. It stops at the first record that needs
        more (see ``deliver_one_now``); the driver hands the rest to ``deliver``. It logs
        nothing: with debug logging on (``logs_each_record``) the driver hands everything
        to ``deliver``.
        """
        self.begun = False  # until an attempt is begun and left to ``deliver``
        one = self.deliver_one_now
        done = 0
        for record in records:
            if one(record) != DONE:
                return done
            done += 1
        return done

    def deliver_one_now(self, record: Record) -> int:
        """One record, as ``deliver_now`` takes each: ``DONE`` (handled, or a duplicate
        skipped), ``LEFT`` (not begun: a bad record, a breaker not closed, no
        ``handle_now`` or a durable dedup store) or ``BEGUN`` (``handle_now`` failed or
        left the event to ``handle``: ``begun`` is set, and ``deliver`` goes on with that
        attempt, as ``_handle_records`` would, without asking ``handle_now`` again)."""
        breaker = self.breaker
        if not self._fast or breaker.state is not _CLOSED or breaker.failures:
            return LEFT
        envelope = record.envelope
        if envelope is None:
            return LEFT
        window = self._fast_window
        if window is None:
            dedup = self.dedup
            assert isinstance(dedup, MemoryDedupWindow)  # ``_fast``
            window = self._fast_window = dedup.group_window(self.group)
        event_id = envelope.id
        current = window.current
        if event_id in current or event_id in window.previous:
            self._skip_duplicate(record, False)
            return DONE
        stats = self.stats
        stats.handler_calls += 1
        try:
            finished = self._handle_now(envelope)
        except Exception as exc:  # attempt 1 failed: ``deliver`` retries or dead-letters
            self.begun, self._begun_failure = True, exc
            return BEGUN
        if not finished:
            self.begun, self._begun_failure = True, None
            return BEGUN
        current.add(event_id)  # ``window.add``, inlined
        if len(current) >= window.size:
            window.rotate()
        stats.processed += 1
        stats.last_event_ts = envelope.ts
        return DONE

    @staticmethod
    def logs_each_record() -> bool:
        """True when processing logs every record (debug): ``deliver_now`` would not."""
        return log.isEnabledFor(_DEBUG)

    async def deliver(self, records: list[Record], done: int = 0) -> int:
        """Handle ``records[done:]`` (a driver took ``records`` from this processor's
        subscription; ``deliver_now`` handled the first ``done``) exactly as a fetched
        batch: dedup, handlers, retries, dead letters, then commit the handled prefix and
        rewind the rest. Returns how many of ``records`` are handled."""
        sub = self._subscription
        if sub is None:
            raise RuntimeError(f"{self.name} is not running: nothing to deliver to")
        debug = log.isEnabledFor(_DEBUG)
        dedup = self.dedup
        window = dedup.group_window(self.group) if type(dedup) is MemoryDedupWindow else None
        total = len(records)
        if done < total and self.begun:
            failure, self.begun, self._begun_failure = self._begun_failure, False, None
            if await self._finish_begun(records[done], window, debug, failure):
                done += 1
            else:
                total = done  # stopped mid-retry: the rest waits
        if done < total:
            done += await self._handle_records(records[done:], window, debug)
        if done:
            await sub.commit(records if done == len(records) else records[:done])
            self.stats.commits += 1
        if done < len(records):
            await sub.rewind()
        return done

    async def _finish_begun(
        self,
        record: Record,
        window: GroupWindow | None,
        debug: bool,
        failure: Exception | None,
    ) -> bool:
        """The rest of the attempt ``deliver_now`` began: ``handle`` when ``handle_now``
        left the event to it, the retries when it raised (as ``_handle_records`` goes
        on). False: stopped mid-retry."""
        envelope: EventEnvelope = record.envelope  # type: ignore[assignment]  # checked
        if failure is not None:
            return await self._attempts(record, window, debug, 1, failure)
        try:
            await self._handle_fully(envelope, debug)
        except Exception as exc:
            return await self._attempts(record, window, debug, 1, exc)
        if window is not None:
            window.add(envelope.id)
        else:  # ``deliver_now`` only begins with a memory window; kept for the contract
            await self.dedup.mark(self.group, envelope.id)
        if self.breaker.failures:
            self.breaker.record_success()
        self.stats.processed += 1
        self.stats.last_event_ts = envelope.ts
        return True
