"""Lockstep driver: the stages' steps run inline, in the order the event loop ran them.

A lockstep backtest (``--sync-every 1``) lets the whole engine — strategies, risk,
execution's paper venue, portfolio, protection — handle a tick before the next one, as
live. On the ``MemoryBus`` each stage is a task: a publish wakes the stages that wait,
each fetches its batch, handles it and yields (``sleep(0)``), and the feed, after each
tick, yields until no stage has anything left. Five event-loop round trips a tick, four
fifths of the run.

This driver runs those same steps without the event loop. It keeps the loop's ready
queue itself (first in, first out): a stage's step is queued when a publish wakes it
(``InlineBus.waker``) and again after each step that handled something, exactly where
the loop queued its task; a step that finds nothing leaves it waiting. The feed's turn
(``turn``, its pause after each tick) comes round in the same queue, and the feed goes
on only when nothing is in lag. With the ``InlineBus`` taking records in the memory
bus's order, every stage sees the same records in the same batches, in the same order,
as on the memory bus: the results are the same, without a round trip per stage.

A step is the processor's own processing: ``deliver_now`` (the synchronous dedup and
``handle_now``) and, for the rest of a batch, ``deliver`` (handlers, retries, dead
letters, commit). The processors still run as supervised tasks for start, ready, stop
and health, parked in a fetch whose wake-ups the driver takes while it runs. A handler
that truly waits (a retry's back-off) holds the other stages back meanwhile, where the
event loop would have run them: only failures can order differently.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from engine.bus.inline import InlineBus, InlineSubscription
from engine.processing.processor import StreamProcessor

# Turns between yields to the event loop: other tasks (progress, the console, a stop
# request) run meanwhile, as between the feed's default bursts of 512. The stages' own
# tasks wait in fetches that no publish wakes while the driver runs, so a yield changes
# nothing a stage sees.
YIELD_EVERY = 256


class _Step:
    """A stage's queued step; ``woken`` when it resumes a fetch that waited. Two per
    subscription (``again`` is the plain one), so queueing allocates nothing."""

    __slots__ = ("again", "processor", "size", "sub", "woken")

    def __init__(self, processor: StreamProcessor, sub: InlineSubscription, woken: bool) -> None:
        self.processor = processor
        self.sub = sub
        self.size = processor.config.batch_size
        self.woken = woken
        self.again = self


class LockstepDriver:
    """Runs ``processors``' steps on an ``InlineBus`` in the event loop's order, inline."""

    def __init__(self, bus: InlineBus, processors: list[StreamProcessor]) -> None:
        self.bus = bus
        self.processors = tuple(processors)
        self._queue: deque[_Step | None] = deque()  # None: the feed's turn
        self._woken_steps: dict[int, _Step] = {}  # id(subscription) → its woken step
        self._every = 0
        self._then: Callable[[], None] | None = None
        self._turns = 0
        # Whether steps may use ``deliver_now`` (it logs nothing, so not while processing
        # logs every record): asked at the start and again at every ``after_every``.
        self._inline = True

    def start(self) -> None:
        """Take the wake-ups from here on (the stages wait in their first fetch now)."""
        self.bus.waker = self._woken
        self._inline = not StreamProcessor.logs_each_record()

    def after_every(self, turns: int, then: Callable[[], None]) -> None:
        """Call ``then`` at the end of every ``turns``-th ``turn`` (drained then)."""
        self._every, self._then = turns, then

    async def turn(self, feed: bool = True) -> None:
        """The feed's pause after a tick: queued steps run until the feed's turn comes
        round with nothing in lag (until then it is queued again, as ``sleep(0)``).
        ``feed`` False (``finish``): until the queue is empty.

        A step is one turn of ``StreamProcessor._loop``: fetch, handle, commit, queue
        again (``sleep(0)``). A fetch that finds nothing waits; a woken one that finds
        nothing fetches again first.
        """
        queue = self._queue
        popleft, append = queue.popleft, queue.append
        has_lag = self.bus.has_lag
        inline = self._inline
        if feed:
            append(None)
        while queue:
            step = popleft()
            if step is None:
                if not feed or not has_lag():
                    break
                append(None)
                continue
            sub = step.sub
            if not sub.live:
                continue  # stopped or restarted meanwhile: its own loop takes over
            nonempty = sub._nonempty
            inboxes = sub._inboxes
            if len(nonempty) == 1 and len(inboxes[nonempty[0]]) == 1:
                # ``take``'s commonest case inlined: one record in one inbox (a tick)
                at = nonempty.pop()
                records = inboxes[at]
                inboxes[at] = []
                sub._cursor += 1
                sub._taken = records
                sub.committed = 0
            else:
                records = sub.take(step.size)
            if not records:
                if step.woken:
                    records = sub.take(step.size)
                if not records:
                    sub.waiting = True
                    continue
            processor = step.processor
            done = processor.deliver_now(records) if inline else 0
            if done == len(records):
                sub.committed = done
                processor.stats.commits += 1
            else:
                await processor.deliver(records, done)
            append(step.again)
        if feed:
            self._turns = turns = self._turns + 1
            if self._then is not None and turns % self._every == 0:
                self._then()
                self._inline = not StreamProcessor.logs_each_record()
            if turns % YIELD_EVERY == 0:
                await asyncio.sleep(0)

    async def finish(self) -> None:
        """After the feed: run what is queued until every stage waits, then hand the
        wake-ups back to the stages' own fetches."""
        await self.turn(feed=False)
        self.release()

    def release(self) -> None:
        """Hand the wake-ups back to the stages' own fetches (they go on by themselves)."""
        self.bus.waker = None
        for step in self._queue:
            if step is not None:
                step.sub.wake_own()
        self._queue.clear()

    def _woken(self, sub: InlineSubscription) -> bool:
        """Queue the step of a waiting stage a publish reached; False: not one of ours."""
        if not sub.live:
            return False
        step = self._woken_steps.get(id(sub))
        if step is None or step.sub is not sub:
            processor = next((p for p in self.processors if p.subscription is sub), None)
            if processor is None:
                return False
            step = self._woken_steps[id(sub)] = _Step(processor, sub, woken=True)
            step.again = _Step(processor, sub, woken=False)
        self._queue.append(step)
        return True
