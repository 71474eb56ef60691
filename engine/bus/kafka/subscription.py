"""A Kafka consumer-group member and its committer: offsets committed after the outputs.

Consumers: one group per service, manual commits, earliest reset (a reader seeded from
elsewhere may start some topics at their end instead: ``subscribe_from_end``). Commits are batched
in time, not per fetched batch: ``commit()`` records what the processor has finished; a
committer task per subscription, every ``commit_interval_ms``, waits until every message
sent so far is acknowledged and then commits those offsets in one request. The round
trips leave the processing path and "outputs durable, then inputs committed" still holds.
A rebalance (``on_partitions_revoked``) and ``aclose()`` commit what is finished before
the partitions are given up; a lost output stops the subscription from committing
anything more and makes its next ``fetch`` raise, so the processor restarts and the
uncommitted records are redelivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Collection, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaConnectionError, KafkaError
from aiokafka.structs import OffsetAndMetadata

from engine.bus.base import Record, Subscription
from engine.bus.kafka.group import Rebalance, cancelling
from engine.bus.kafka.producer import BatchingProducer, OutputLostError
from engine.bus.kafka.security import KafkaConnection
from engine.events.codec import DecodeError, EventCodec
from engine.events.envelope import EventEnvelope
from engine.memo import remember

log = logging.getLogger("alphapanda.bus")


class DecodeCache:
    """Envelopes by their exact bytes, two generations of ``size`` (at least ``size`` of
    the latest kept). Keyed by content, so a hit is the very decode of those bytes.

    Shared by one bus's consumers: every stage reads the ticks, and envelopes are frozen,
    so one decode serves them all."""

    def __init__(self, codec: EventCodec, size: int = 4096) -> None:
        self._codec = codec
        self._size = size
        self.current: dict[bytes, EventEnvelope] = {}  # read directly on the hot path
        self._previous: dict[bytes, EventEnvelope] = {}
        self.keys: dict[bytes, str] = {}  # record keys repeat (instruments, strategies)

    def decode(self, raw: bytes | None) -> tuple[EventEnvelope | None, str | None]:
        """(envelope, None), or (None, why) for bytes that are not a valid envelope."""
        if raw is None:
            return None, "empty message"
        envelope = self.current.get(raw)
        if envelope is None:
            envelope = self._previous.get(raw)
            if envelope is None:
                try:
                    envelope = self._codec.decode(raw)
                except DecodeError as exc:
                    return None, str(exc)
            if len(self.current) >= self._size:
                self._previous, self.current = self.current, {}
            self.current[raw] = envelope
        return envelope, None

    def key(self, raw: bytes) -> str:
        return remember(self.keys, raw, raw.decode("utf-8", "replace"), 65_536)


class KafkaSubscription(Subscription):
    """A consumer-group member with time-batched manual commits; decoding failures become
    error records.

    ``commit()`` records the next offset per partition (``_done``); the committer task
    commits it after a flush, at most every ``commit_interval`` seconds, and so do a
    rebalance and ``aclose()``. Offsets only ever come from records the processor
    finished, so a late or repeated commit can only cause redelivery, never a loss.
    """

    def __init__(
        self,
        topics: tuple[str, ...],
        group: str,
        *,
        connection: KafkaConnection,
        producer: BatchingProducer,
        decoded: DecodeCache,
        commit_interval: float,
        fetch_max_wait_ms: int,
        on_close: Callable[[KafkaSubscription], None] | None = None,
        from_end: frozenset[str] = frozenset(),
    ) -> None:
        """``producer``: whose outputs must be acknowledged before an offset is committed;
        ``on_close``: told when this member has left (the bus forgets it); ``from_end``:
        topics whose partitions start at their end when the group has no committed offset
        there (the rest: earliest)."""
        self.topics = topics
        self._from_end = from_end
        self._to_end: set[TopicPartition] = set()  # from-end partitions not yet at their end
        self.group = group
        self._connection = connection
        self._producer = producer
        self._decoded = decoded
        self._commit_interval = commit_interval
        self._on_close = on_close
        self._consumer = AIOKafkaConsumer(
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=fetch_max_wait_ms,
            **connection.member_kwargs(),
        )
        self._committed: dict[TopicPartition, int] = {}
        self._done: dict[TopicPartition, int] = {}  # next offset after the finished records
        self._dirty = asyncio.Event()  # ``_done`` moved past ``_committed``
        self._commit_lock = asyncio.Lock()
        # Bumped by every rebalance: a batch fetched before one is not recorded as done
        # (its partitions may have moved; it is redelivered and dedup skips it).
        self._epoch = 0
        self._fetched_epoch = 0
        self._checked = producer.sent  # outputs before this subscription are not ours to check
        self._failure: BaseException | None = None  # an output was lost: commit nothing more
        self._committer: asyncio.Task[None] | None = None
        self._closed = False
        self._extra = {"group": group}
        self._caught_up_since: float | None = None  # when ``caught_up`` was first asked

    async def start(self) -> None:
        """Join the group; returns once partitions are assigned (as aiokafka's start does)."""
        self._consumer.subscribe(list(self.topics), listener=Rebalance(self))
        try:
            await self._consumer.start()
        except (KafkaConnectionError, KafkaError, OSError) as exc:
            await self._consumer.stop()
            raise self._connection.unreachable(exc) from exc
        if self._commit_interval > 0:
            self._committer = asyncio.create_task(self._commit_loop(), name=f"commit:{self.group}")
        log.info(
            "kafka consumer started: group %s on %s",
            self.group,
            ", ".join(self.topics),
            extra={"group": self.group, "topics": list(self.topics)},
        )

    async def fetch(self, max_records: int = 256, timeout: float = 0.5) -> list[Record]:
        if self._closed:
            return []
        self._raise_if_failed()
        batches = await self._consumer.getmany(
            timeout_ms=int(timeout * 1000), max_records=max_records
        )
        if self._to_end:
            self._skip_to_end(batches)
        self._fetched_epoch = self._epoch
        records: list[Record] = []
        append = records.append
        cache = self._decoded
        decode = cache.decode
        keys = cache.keys
        for tp, messages in batches.items():
            topic, partition = tp.topic, tp.partition
            for msg in messages:
                raw_key, value = msg.key, msg.value
                key = keys.get(raw_key) if raw_key else None
                if key is None and raw_key:
                    key = cache.key(raw_key)
                envelope = cache.current.get(value) if value is not None else None
                if envelope is None:
                    envelope, error = decode(value)
                    append(Record(topic, partition, msg.offset, key, envelope, value, error))
                else:
                    append(Record(topic, partition, msg.offset, key, envelope, value))
        return records

    async def commit(self, records: Sequence[Record]) -> None:
        """Mark the records done; the committer commits them once their outputs are acked.

        With ``commit_interval_ms=0`` this flushes and commits before returning.
        """
        self._raise_if_failed()
        if self._fetched_epoch != self._epoch:
            log.info("batch from before a rebalance not committed", extra={"group": self.group})
            return
        done = self._done
        last: dict[tuple[str, int], int] = {(r.topic, r.partition): r.offset for r in records}
        for (topic, partition), offset in last.items():
            tp = TopicPartition(topic, partition)
            if offset + 1 > done.get(tp, -1):
                done[tp] = offset + 1
        self._dirty.set()
        if self._committer is None:
            await self._commit_done()
            self._raise_if_failed()

    def _raise_if_failed(self) -> None:
        if self._failure is not None:
            raise OutputLostError(
                f"{self.group}: an output was not acknowledged; nothing more is committed"
            ) from self._failure

    async def _commit_loop(self) -> None:
        """Every ``commit_interval`` while there is something to commit."""
        interval = self._commit_interval
        while not self._closed:
            await self._dirty.wait()
            await asyncio.sleep(interval)
            try:
                await self._commit_done()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # never die silently: the next one retries
                log.warning("commit failed", extra={"group": self.group, "error": repr(exc)})
                await asyncio.sleep(interval)

    async def _commit_done(self) -> None:
        """Flush the producer, then commit the finished offsets of assigned partitions.

        The offsets are taken before the flush starts, so every output of those records
        was already sent and is among what the flush waits for.
        """
        async with self._commit_lock:
            if self._failure is not None:
                return
            committed = self._committed
            offsets = {tp: o for tp, o in self._done.items() if committed.get(tp, -1) < o}
            self._dirty.clear()
            if not offsets:
                return
            try:
                self._checked = await self._producer.flush_since(self._checked)
            except OutputLostError as exc:
                self._failure = exc
                log.error(
                    "outputs lost: offsets not committed; the processor restarts",
                    extra={"group": self.group, "error": str(exc)},
                )
                return
            assigned = self._consumer.assignment()
            offsets = {tp: o for tp, o in offsets.items() if tp in assigned}
            if not offsets:
                return
            try:
                await self._consumer.commit(
                    {tp: OffsetAndMetadata(o, "") for tp, o in offsets.items()}
                )
            except (CommitFailedError, IllegalStateError) as exc:
                # Rebalanced away: the new owner gets these records again and dedup skips them.
                log.warning(
                    "commit failed after rebalance", extra={"group": self.group, "error": str(exc)}
                )
                return
            except KafkaError:
                self._dirty.set()  # the broker is unwell: try again next interval
                raise
            for tp, offset in offsets.items():
                committed[tp] = max(committed.get(tp, -1), offset)

    async def _revoked(self, revoked: Collection[TopicPartition]) -> None:
        """Before giving partitions up: commit what is finished, forget the rest."""
        self._epoch += 1
        try:
            async with asyncio.timeout(self._connection.request_timeout):
                await self._commit_done()
        except Exception as exc:  # redelivered to the next owner; dedup skips what was done
            log.warning(
                "commit before rebalance failed", extra={"group": self.group, "error": repr(exc)}
            )
        for tp in revoked:
            self._to_end.discard(tp)
            self._done.pop(tp, None)
            self._committed.pop(tp, None)

    async def _assigned(self, assigned: Collection[TopicPartition]) -> None:
        self._epoch += 1
        if self._from_end:
            await self._start_at_end([tp for tp in assigned if tp.topic in self._from_end])

    async def _start_at_end(self, partitions: list[TopicPartition]) -> None:
        """Mark the partitions with no committed offset in this group to start at their end
        (a restarted member of the same group resumes where it committed). The end is the
        high watermark of the first fetch response (``_skip_to_end``), not a ListOffsets
        answer: the test broker (Tansu) answers "latest" with an offset short of the end."""
        consumer = self._consumer
        for tp in partitions:
            if await consumer.committed(tp) is None:
                self._to_end.add(tp)

    def _skip_to_end(self, batches: dict[TopicPartition, list[Any]]) -> None:
        """Drop what was fetched before a from-end partition's high watermark was known,
        seek it there and count the skipped offsets as done (so its lag is what came after)."""
        consumer = self._consumer
        for tp in list(self._to_end):
            skipped = batches.pop(tp, ())
            end = consumer.highwater(tp)
            if end is None:
                continue  # no fetch response yet: nothing of it is read before its end is known
            self._to_end.discard(tp)
            consumer.seek(tp, end)
            if end > self._done.get(tp, -1):
                self._done[tp] = end
                self._dirty.set()
            log.info(
                "consumer starts at the end of %s[%d] (offset %d)",
                tp.topic,
                tp.partition,
                end,
                extra={"group": self.group, "skipped_in_batch": len(skipped)},
            )

    async def rewind(self) -> None:
        await self._commit_done()
        for tp in self._consumer.assignment():
            committed = await self._consumer.committed(tp)
            if committed is None:
                await self._consumer.seek_to_beginning(tp)
            else:
                self._consumer.seek(tp, committed)

    def lag(self) -> int:
        """Messages in the assigned partitions this member has not finished yet (finished
        ones are committed within ``commit_interval_ms``)."""
        lag = 0
        done, committed = self._done, self._committed
        for tp in self._consumer.assignment():
            high = self._consumer.highwater(tp)
            if high is None:
                continue
            lag += max(0, high - max(done.get(tp, 0), committed.get(tp, 0)))
        return lag

    def uncommitted(self) -> int:
        committed = self._committed
        return sum(1 for tp, offset in self._done.items() if committed.get(tp, -1) < offset)

    async def caught_up(self, since: float | None = None) -> bool:
        """True once every assigned partition has had a fetch response after ``since``
        (default: the first ask) and nothing up to its high watermark is unfinished. (The
        end offsets the test broker lists are not record counts, and ``lag()`` alone
        reads watermarks that may predate the last messages upstream sent.)"""
        if since is None:
            if self._caught_up_since is None:
                self._caught_up_since = time.time()
            since = self._caught_up_since
        since_ms = since * 1000
        consumer = self._consumer
        for tp in consumer.assignment():
            polled = consumer.last_poll_timestamp(tp)
            if polled is None or polled < since_ms:
                return False
        return self.lag() == 0

    async def aclose(self) -> None:
        """Commit what is finished (after a flush), then leave the group."""
        if self._closed:
            return
        self._closed = True
        committer, self._committer = self._committer, None
        if committer is not None:
            committer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await committer
        try:
            if cancelling():
                # Cancelled (not stopped): the producer may be going down with us, so do not
                # wait for acknowledgements; what is uncommitted is redelivered.
                log.warning("cancelled: finished records left uncommitted", extra=self._extra)
            else:
                async with asyncio.timeout(self._connection.request_timeout):
                    await self._commit_done()
        except Exception as exc:  # redelivered to the next member; dedup skips it
            log.warning("final commit failed", extra={**self._extra, "error": repr(exc)})
        finally:
            await self._consumer.stop()
            if self._on_close is not None:
                self._on_close(self)
            log.info("kafka consumer stopped: group %s", self.group, extra={"group": self.group})
