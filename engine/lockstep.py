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

from engine.bus.base import Record
from engine.bus.inline import InlineBus, InlineSubscription
from engine.events import topics
from engine.processing.handover import BEGUN, DONE, LEFT
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

    def __init__(
        self,
        bus: InlineBus,
        processors: list[StreamProcessor],
        tick_topic: str = topics.MARKET_TICKS,
    ) -> None:
        self.bus = bus
        self.processors = tuple(processors)
        self._queue: deque[_Step | None] = deque()  # None: the feed's turn
        self._woken_steps: dict[int, _Step] = {}  # id(subscription) → its woken step
        self._every = 0
        self._then: Callable[[], None] | None = None
        self._turns = 0
        self.tick_topic = tick_topic
        self._lane = False  # the steady state holds: ticks go down the lane
        self._lane_steps: tuple[_Step, ...] = ()
        self._lane_appends = 0  # the bus's count of publishes when the lane was last run
        self._lane_topology = 0
        self._lane_pending = 0  # ticks down the lane not yet counted per step
        self._resume: tuple[Record, int, bool] | None = None  # a lane left in ``turn_now``
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

    def turn_now(self) -> bool:
        """The feed's pause when the tick goes down the lane and the turn needs no await
        (no yield due): True when done. False: the feed awaits ``turn``, which goes on
        from where this stopped (a stage that left the lane)."""
        if (self._turns + 1) % YIELD_EVERY == 0 or not self._lane_ready():
            return False
        self._resume = self._lane_turn()
        if self._resume is not None:
            return False
        self._count_turn()
        return True

    async def turn(self, feed: bool = True) -> None:
        """The feed's pause after a tick: queued steps run until the feed's turn comes
        round with nothing in lag (until then it is queued again, as ``sleep(0)``).
        ``feed`` False (``finish``): until the queue is empty.

        A step is one turn of ``StreamProcessor._loop``: fetch, handle, commit, queue
        again (``sleep(0)``). A fetch that finds nothing waits; a woken one that finds
        nothing fetches again first. A tick in the steady state goes down the lane
        (``_lane_turn``) instead, with the same effect.
        """
        queue = self._queue
        bus = self.bus
        resume = self._resume
        if resume is None and feed and self._lane_ready():
            resume = self._lane_turn()
            if resume is None:
                await self._end_turn()
                return
        if resume is not None:  # a stage left the lane: on from there, as the loop would
            self._resume = None
            held, index, begun = resume
            if begun:  # the rest of that stage's step
                step = self._lane_steps[index]
                sub = step.sub
                sub._cursor += 1
                sub._taken = records = [held]
                sub.committed = 0
                self._drop_lane()
                await step.processor.deliver(records, 0)
                queue.append(step.again)
            else:
                self._drop_lane()
        else:
            self._drop_lane()
            bus.release_held()  # routed as its publish would have: nothing ran since
            if feed:
                queue.append(None)
        await self._run_queue(feed)
        if feed:
            self._steady_lane()
            await self._end_turn()

    async def _run_queue(self, feed: bool) -> None:
        """Run queued steps until the feed's turn comes round with nothing in lag (or,
        ``feed`` False, until the queue is empty)."""
        queue = self._queue
        popleft, append = queue.popleft, queue.append
        has_lag = self.bus.has_lag
        inline = self._inline
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

    def _count_turn(self) -> None:
        """A feed's turn ended: the sampler every ``after_every`` turns (the lane's
        counts brought up to date first: they are seen from there)."""
        self._turns = turns = self._turns + 1
        if self._then is not None and turns % self._every == 0:
            self._flush_lane()
            self._then()
            inline = not StreamProcessor.logs_each_record()
            if inline != self._inline:
                self._inline = inline
                self._drop_lane()

    async def _end_turn(self) -> None:
        """``_count_turn``, then a yield to the event loop every ``YIELD_EVERY`` turns."""
        self._count_turn()
        if self._turns % YIELD_EVERY == 0:
            self._flush_lane()
            await asyncio.sleep(0)

    # -- the lane ---------------------------------------------------------------------
    # In the steady state every stage that reads ticks has its plain step queued and
    # nothing is in lag; the loop would then take the next tick stage by stage, each
    # handling it in ``deliver_now`` and queueing itself again behind the feed's turn,
    # which finds no lag: the queue ends as it began. The lane does just that without
    # the queue and the inboxes: the bus holds the tick (``hold_topic``) and each stage
    # gets it from ``deliver_one_now`` in the queue's order. The counts the loop keeps
    # per step (each subscription's fetch cursor, each processor's commits) are added
    # up and brought up to date before anything else can read them (``_flush_lane``).
    # The first stage that does not finish the tick (or a publish meanwhile) leaves the
    # lane: the queue and the inboxes are set as the loop would have left them there,
    # and the loop goes on from that stage.

    def _lane_turn(self) -> tuple[Record, int, bool] | None:
        """The held tick (``_lane_ready``) through every stage of the lane; None when all
        handled it, else (the tick, the stage, whether its attempt is begun) after
        leaving the lane at that stage: ``turn`` goes on from there."""
        bus = self.bus
        record = bus.held
        assert record is not None  # ``_lane_ready``
        bus.held = None
        appends = bus.appends
        for index, step in enumerate(self._lane_steps):
            outcome = step.processor.deliver_one_now(record)
            if outcome != DONE or bus.appends != appends:
                self._leave_lane(record, index, outcome)
                return record, index, outcome == BEGUN
        self._lane_pending += 1
        self._lane_appends = appends
        return None

    def _leave_lane(self, record: Record, index: int, outcome: int) -> None:
        """Set the queue and inboxes as the loop leaves them at stage ``index`` (its step
        taken off the queue): the stages before it handled the tick and are queued again
        behind the feed's turn, those after it find the tick in their inboxes. A stage
        that handled it (a publish meanwhile) is queued again after what that woke."""
        self._flush_lane()
        steps = self._lane_steps
        queue = self._queue
        woken = list(queue)[len(steps) :]  # queued by a publish during the lane
        for step in steps[:index]:
            step.sub._cursor += 1
            step.processor.stats.commits += 1
        later = steps[index:] if outcome == LEFT else steps[index + 1 :]
        for step in later:
            step.sub.put(record)
        queue.clear()
        queue.extend(later)
        queue.append(None)
        queue.extend(steps[:index])
        queue.extend(woken)
        if outcome == DONE:
            step = steps[index]
            sub = step.sub
            sub._cursor += 1
            sub._taken, sub.committed = [record], 1
            step.processor.stats.commits += 1
            queue.append(step)

    def _steady_lane(self) -> None:
        """After a turn the loop ran: the lane if the steady state holds (every stage
        that reads ticks has its plain step queued, nothing else), else none."""
        self._drop_lane()
        bus = self.bus
        routes = bus.routes_of(self.tick_topic)
        queue = self._queue
        if not self._inline or not routes or len(queue) != len(routes):
            return
        groups = {id(group) for group, _ in routes}
        for step in queue:
            if step is None or step is not step.again or not step.sub.live:
                return
            if not step.processor._fast:  # ``deliver_one_now`` would leave every tick
                return
            group = id(step.sub._state)
            if group not in groups:
                return
            groups.discard(group)
        self._lane_steps = tuple(step for step in queue if step is not None)
        self._lane = True
        self._lane_appends = bus.appends
        self._lane_topology = bus.topology
        bus.hold_topic = self.tick_topic

    def _lane_ready(self) -> bool:
        """A tick is held and nothing else happened since the lane's last turn."""
        bus = self.bus
        return (
            bus.held is not None
            and self._lane
            and self._inline
            and bus.appends == self._lane_appends + 1
            and bus.topology == self._lane_topology
        )

    def _drop_lane(self) -> None:
        """Out of the lane: its counts brought up to date, no tick held any more."""
        self._flush_lane()
        self._lane = False
        self.bus.hold_topic = None

    def _flush_lane(self) -> None:
        pending = self._lane_pending
        if pending:
            self._lane_pending = 0
            for step in self._lane_steps:
                step.sub._cursor += pending
                step.processor.stats.commits += pending

    async def finish(self) -> None:
        """After the feed: run what is queued until every stage waits, then hand the
        wake-ups back to the stages' own fetches."""
        await self.turn(feed=False)
        self.release()

    def release(self) -> None:
        """Hand the wake-ups back to the stages' own fetches (they go on by themselves)."""
        self._drop_lane()
        self.bus.release_held()
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
