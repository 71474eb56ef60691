"""The recorder: a consumer of ``market.ticks`` that hands batches to the tick writer.

The pipeline never waits for the disk. A tick is appended to a bounded buffer on the
consumer's fast path and committed at once; a single writer thread writes the buffer out
every ``flush_seconds`` (or sooner when it fills), one write in flight at a time. When
the disk stalls and the buffer is full, new ticks are dropped and counted: the health
row turns DEGRADED and a WARNING alert says how many, because a feed that waits for a
disk would halt trading over a file.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from functools import partial
from typing import cast

import msgspec

from engine.bus.base import EventBus
from engine.clock import Clock, SystemClock
from engine.events import topics
from engine.events.envelope import EventEnvelope
from engine.events.payloads import ComponentHealth, RiskAlert, Tick
from engine.events.types import ComponentStatus, EventType, Severity
from engine.processing.config import ProcessorConfig
from engine.processing.emitter import Emitter
from engine.processing.processor import StreamProcessor
from storage.ticks.config import RecorderConfig
from storage.ticks.layout import ist_day
from storage.ticks.retention import expired_days, prune
from storage.ticks.writer import TickWriter, recover

log = logging.getLogger("alphapanda.ticks")


class TickRecorder(StreamProcessor):
    """Records every tick the engine sees into the day's store (see the module doc)."""

    def __init__(
        self, *, bus: EventBus, config: RecorderConfig, clock: Clock | None = None
    ) -> None:
        super().__init__(
            name="tick-recorder",
            bus=bus,
            input_topics=[topics.MARKET_TICKS],
            config=ProcessorConfig(timer_interval=config.flush_seconds, batch_size=1024),
            clock=clock or SystemClock(),
        )
        self.recorder_config = config
        self._writer = TickWriter(config.root, rotate_ticks=config.rotate_ticks)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tick-writer")
        self._buffer: list[object] = []  # envelopes' payloads: only Ticks are written
        self._append = self._buffer.append
        self._flush_at = max(1, config.max_buffered // 4)  # write early rather than drop
        self._room = self._flush_at  # buffered ticks at which handle_now looks again
        self._in_flight = 0
        self._write: asyncio.Future[int] | None = None
        self.recorded = 0  # ticks durably written
        self.dropped = 0  # ticks lost: buffer full behind a slow disk, or a failed write
        self._dropped_told = 0
        self.last_error = ""

    # -- consuming: O(1), never waits ---------------------------------------------------
    def handle_now(self, envelope: EventEnvelope) -> bool:
        """Append the payload; look at the buffer only when it reaches ``_room``.

        Every tick of the pipeline passes here, so it does the least it can (each
        attribute read is ~40 ns on the shared box): no type check (the writer keeps
        only ``Tick``s) and no bound checks below ``_room``, which is where a write
        starts or, with one in flight, where the buffer would exceed ``max_buffered``."""
        self._append(envelope.data)
        if len(self._buffer) >= self._room:
            self._buffer_full()
        return True

    def _buffer_full(self) -> None:
        """Drop the newest tick if it overflows the bound; start a write if none is in
        flight; then set where to look next."""
        if len(self._buffer) + self._in_flight > self.recorder_config.max_buffered:
            self._buffer.pop()
            self.dropped += 1
        if len(self._buffer) >= self._flush_at:
            self._start_write()
        self._set_room()

    def _set_room(self) -> None:
        """Where ``handle_now`` next looks: where a write should start, or, with one in
        flight (only one at a time), where the buffer would pass the bound."""
        if self._in_flight:
            self._room = self.recorder_config.max_buffered - self._in_flight
        else:
            self._room = self._flush_at

    async def handle(self, envelope: EventEnvelope, out: Emitter) -> None:
        self.handle_now(envelope)

    # -- writing: on the writer thread ----------------------------------------------
    def _start_write(self) -> None:
        """Hand the buffer to the writer thread unless a write is still in flight."""
        if not self._buffer or (self._write is not None and not self._write.done()):
            return
        payloads, self._buffer = self._buffer, []
        self._append = self._buffer.append
        self._in_flight = len(payloads)
        self._set_room()
        loop = asyncio.get_running_loop()
        self._write = loop.run_in_executor(self._thread, self._write_ticks, payloads)
        self._write.add_done_callback(partial(self._written, len(payloads)))

    def _write_ticks(self, payloads: list[object]) -> int:
        """On the writer thread: write the buffer's ticks; returns how many."""
        all_ticks = set(map(type, payloads)) == {Tick}  # one C pass; a stray event is rare
        ticks = cast(list[Tick], payloads) if all_ticks else _only_ticks(payloads)
        self._writer.write(ticks)
        return len(ticks)

    def _written(self, count: int, done: asyncio.Future[int]) -> None:
        # The future is done a loop turn before this callback runs, and a write may start
        # in between: only the newest write's end empties the in-flight count.
        if done is self._write:
            self._in_flight = 0
            self._set_room()
        error = None if done.cancelled() else done.exception()
        if error is None:
            self.recorded += done.result()
            return
        self.dropped += count
        self.last_error = str(error) or type(error).__name__
        log.error("tick recorder lost %d ticks: %s", count, self.last_error)

    async def on_start(self) -> None:
        """Tidy the store first; a store that cannot be tidied is logged, never fatal (a
        crash here would restart the recorder until the engine gave up, over a file)."""
        loop = asyncio.get_running_loop()
        today = ist_day(self.clock.now_ns())
        try:
            await loop.run_in_executor(self._thread, self._tidy_store, today)
        except Exception as exc:
            log.exception("tick store not tidied (recording goes on)")
            self.last_error = f"tidying the store: {exc}"

    def _tidy_store(self, today: date) -> None:
        """Seal what a killed recorder left and delete days past retention."""
        root = self.recorder_config.root
        for sealed in recover(root):
            log.info("tick segment recovered: %s", sealed)
        old = expired_days(root, retention_days=self.recorder_config.retention_days, today=today)
        prune(root, old)
        if old:
            log.info("tick days past retention deleted: %s", ", ".join(map(str, old)))

    async def on_timer(self, out: Emitter) -> None:
        self._start_write()
        if self.dropped > self._dropped_told:
            self._dropped_told = self.dropped
            out.emit(topics.SYSTEM_ALERTS, EventType.RISK_ALERT, self._drop_alert(), key="ticks")

    def _drop_alert(self) -> RiskAlert:
        cause = self.last_error or "the disk is not keeping up"
        return RiskAlert(
            severity=Severity.WARNING,
            rule="ticks",
            message=f"tick recorder dropped {self.dropped:,} ticks ({cause}); trading goes on",
            alert_ts=self.clock.now_ns(),
        )

    async def on_stop(self) -> None:
        """Write what is buffered, then seal the day's segment (a clean stop: Parquet)."""
        if self._write is not None:
            await asyncio.wait([self._write])
        self._start_write()
        if self._write is not None:
            await asyncio.wait([self._write])
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self._writer.close)

    def health(self) -> ComponentHealth:
        base = super().health()
        detail = f"{self.recorded:,} recorded"
        status = base.status
        if self.dropped:
            detail += f", {self.dropped:,} dropped ({self.last_error or 'disk too slow'})"
            status = ComponentStatus.DEGRADED if status is ComponentStatus.RUNNING else status
        elif self.last_error:
            detail += f" ({self.last_error})"
        return msgspec.structs.replace(base, status=status, detail=detail)


def _only_ticks(payloads: list[object]) -> list[Tick]:
    """The ticks among payloads (``market.ticks`` carries nothing else, but a stray event
    on it must not break the write of the ticks around it)."""
    return [payload for payload in payloads if isinstance(payload, Tick)]
