"""Consumer-group plumbing shared by subscriptions and leases."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from typing import Protocol

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener


class RebalanceOwner(Protocol):
    """What a group member does when the group takes partitions away or hands them over."""

    async def _revoked(self, revoked: Collection[TopicPartition]) -> None: ...

    async def _assigned(self, assigned: Collection[TopicPartition]) -> None: ...


class Rebalance(ConsumerRebalanceListener):
    """Hands aiokafka's rebalance callbacks to their owner's ``_revoked`` / ``_assigned``."""

    def __init__(self, owner: RebalanceOwner) -> None:
        self._owner = owner

    async def on_partitions_revoked(self, revoked: Collection[TopicPartition]) -> None:
        await self._owner._revoked(revoked)

    async def on_partitions_assigned(self, assigned: Collection[TopicPartition]) -> None:
        await self._owner._assigned(assigned)


def cancelling() -> int:
    """How many cancellations the current task has pending (0: none, or no task)."""
    task = asyncio.current_task()
    return task.cancelling() if task is not None else 0


async def stop_consumer(consumer: AIOKafkaConsumer) -> None:
    """``consumer.stop()``, without the cancellation aiokafka lets out of it.

    Its fetcher cancels and awaits the fetch requests still pending; one that failed while
    the cluster was gone sits in its retry back-off, and its ``CancelledError`` then leaves
    ``stop()`` although nobody cancelled the caller: a service closing after the broker
    went away was restarted as a crash. Kept when the caller itself is being cancelled.
    """
    try:
        await consumer.stop()
    except asyncio.CancelledError:
        if cancelling():
            raise
