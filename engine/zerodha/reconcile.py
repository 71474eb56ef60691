"""Reconciliation: compare Zerodha's orders, trades and positions with storage, by tag.

Run on start and after every reconnect, because a crash, a dropped socket or a place
call without an answer can leave the two sides apart. Differences are reported as
``ReconciliationDiff`` events with a ``RiskAlert`` each, never silently overwritten.
Two things are acted on: a PENDING or UNKNOWN local order found at Zerodha under its
tag is linked to its broker order id (so nobody sends it again), and a working order
that Zerodha moved ahead (filled, cancelled) is fed through the normal update path
(``catch_up``), so its fills are journalled like any other.

An autoslice order's legs carry no tag: they are matched to their client order by
the parent id in their ``autoslice:<parent>`` tag, fed through the same update path
(which sums them), and their trades are checked against the journal like any other.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from engine.bus.base import EventBus
from engine.clock import Clock, SystemClock
from engine.domain.records import FillRecord, OrderRecord, PositionRecord
from engine.events import topics
from engine.events.envelope import new_event
from engine.events.payloads import ReconciliationDiff, RiskAlert
from engine.events.types import Broker, EventType, OrderStatus, Severity
from engine.trading_state.alarms import raise_alarm
from engine.zerodha.autoslice import autoslice_parent
from engine.zerodha.kite_orders import kite_tags, map_status, row_tag

log = logging.getLogger("alphapanda.zerodha.reconcile")
Publish = Callable[[EventType, ReconciliationDiff | RiskAlert, str], Awaitable[None]]
CatchUp = Callable[[dict[str, Any]], Awaitable[object]]
_UNSENT = (OrderStatus.PENDING, OrderStatus.UNKNOWN)
RULE = "reconciliation"


class ReconcileStore(Protocol):
    async def list_orders(
        self, broker: Broker, statuses: Sequence[OrderStatus] | None = None, limit: int = 500
    ) -> list[OrderRecord]: ...

    async def update_order(self, order: OrderRecord) -> None: ...

    async def list_fills(self, broker: Broker) -> list[FillRecord]: ...

    async def list_positions(self, broker: Broker) -> list[PositionRecord]: ...


@dataclass(slots=True)
class ReconcileReport:
    diffs: list[ReconciliationDiff] = field(default_factory=list)
    linked: list[str] = field(default_factory=list)  # client order ids linked by tag
    caught_up: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.diffs


def bus_publisher(
    bus: EventBus, source: str = "zerodha.reconcile", *, store: object = None
) -> Publish:
    """Publish diffs and alerts on ``system.alerts``, where the console shows them; the
    CRITICAL alerts are also kept in ``store`` (by the process whose pass found them), so
    a restarted console pins them again."""

    async def publish(type_: EventType, payload: ReconciliationDiff | RiskAlert, key: str) -> None:
        if isinstance(payload, RiskAlert):
            await raise_alarm(bus, payload, source=source, key=key, store=store)
            return
        envelope = new_event(type_, payload, source=source, key=key, broker=Broker.ZERODHA)
        await bus.publish(topics.SYSTEM_ALERTS, envelope)

    return publish


class Reconciler:
    """One pass: fetch the broker's book, compare with storage, report and link."""

    def __init__(
        self,
        client: Callable[[], Any],
        store: ReconcileStore,
        publish: Publish,
        *,
        catch_up: CatchUp | None = None,
        clock: Clock | None = None,
        history_limit: int = 5000,
    ) -> None:
        self._client = client
        self._store = store
        self._publish = publish
        self._catch_up = catch_up
        self._clock = clock or SystemClock()
        self._limit = history_limit

    async def run(self) -> ReconcileReport:
        kite = self._client()
        rows = await asyncio.to_thread(kite.orders)
        trades = await asyncio.to_thread(kite.trades)
        positions = await asyncio.to_thread(kite.positions)
        local = {
            o.client_order_id: o
            for o in await self._store.list_orders(Broker.ZERODHA, limit=self._limit)
        }
        report = ReconcileReport()
        by_broker_id: dict[str, str] = {}
        by_kite_id = {o.broker_order_id: o for o in local.values() if o.broker_order_id}
        for row in rows:
            leg_of = by_kite_id.get(autoslice_parent(row) or "")
            by_broker_id[str(row.get("order_id"))] = (
                leg_of.client_order_id if leg_of is not None else row_tag(row) or ""
            )
            if leg_of is not None:
                await self._leg(row, leg_of, report)
            else:
                await self._order(row, local, report)
        await self._absent(rows, local, report)
        await self._trades(trades, by_broker_id, local, report)
        await self._positions(positions.get("net") or [], report)
        log.info(
            "reconciliation done",
            extra={"diffs": len(report.diffs), "linked": len(report.linked)},
        )
        return report

    # -- orders ------------------------------------------------------------------------
    async def _order(
        self, row: dict[str, Any], local: dict[str, OrderRecord], report: ReconcileReport
    ) -> None:
        tag = row_tag(row)
        broker_id = str(row.get("order_id"))
        remote = f"{row.get('status')} {row.get('transaction_type')} {row.get('quantity')} "
        remote += f"{row.get('exchange')}:{row.get('tradingsymbol')} (order {broker_id})"
        order = local.get(tag or "")
        status = map_status(
            row.get("status"),
            int(row.get("filled_quantity") or 0),
            int(row.get("quantity") or 0),
            last=order.status if order is not None else None,
        )
        if order is None:
            origin = "an unknown tag " + tag if tag else "no tag (placed outside AlphaPanda)"
            if extra := kite_tags(row):
                origin += " and Kite's tags " + ", ".join(extra)
            await self._diff(
                report,
                "order",
                tag or broker_id,
                "absent",
                remote,
                f"Zerodha has an order with {origin}: {remote}",
            )
            return
        if order.status in _UNSENT and not order.broker_order_id:
            order.broker_order_id = broker_id
            order.reason = f"linked to Zerodha order {broker_id} by tag"
            await self._store.update_order(order)
            report.linked.append(order.client_order_id)
            log.warning(
                "pending order found at zerodha: linked, not re-sent",
                extra={"client_order_id": order.client_order_id, "order_id": broker_id},
            )
        elif order.broker_order_id and order.broker_order_id != broker_id:
            await self._diff(
                report,
                "order",
                order.client_order_id,
                order.broker_order_id,
                broker_id,
                f"order {order.client_order_id} has two Zerodha ids",
            )
            return
        if order.status.is_terminal and status != order.status:
            await self._diff(
                report,
                "order",
                order.client_order_id,
                order.status.value,
                remote,
                f"order {order.client_order_id} is {order.status.value} here "
                f"but {row.get('status')} at Zerodha",
            )
        elif (
            status != order.status or int(row.get("filled_quantity") or 0) != order.filled_quantity
        ):
            if self._catch_up is not None:
                await self._catch_up(row)
                report.caught_up.append(order.client_order_id)

    async def _leg(self, row: dict[str, Any], order: OrderRecord, report: ReconcileReport) -> None:
        """An autoslice leg of a working client order goes through the update path, which
        sums the legs; an ended order's legs were read when it ended."""
        if order.status.is_terminal or self._catch_up is None:
            return
        await self._catch_up(row)
        if order.client_order_id not in report.caught_up:
            report.caught_up.append(order.client_order_id)

    async def _absent(
        self, rows: list[dict[str, Any]], local: dict[str, OrderRecord], report: ReconcileReport
    ) -> None:
        at_broker = {row_tag(r) for r in rows} | {str(r.get("order_id")) for r in rows}
        at_broker |= {autoslice_parent(r) for r in rows}  # a sliced order is at Kite as legs
        for order in local.values():
            if order.status.is_terminal or order.client_order_id in at_broker:
                continue
            if order.broker_order_id and order.broker_order_id in at_broker:
                continue
            if order.status is OrderStatus.UNKNOWN:
                message = (
                    f"order {order.client_order_id} got no answer when sent and is not "
                    "at Zerodha: it was not placed; decide before sending it again"
                )
            elif order.status is OrderStatus.PENDING:
                message = (
                    f"order {order.client_order_id} is in the outbox but never reached Zerodha"
                )
            else:
                message = (
                    f"order {order.client_order_id} is {order.status.value} here "
                    "but unknown at Zerodha"
                )
            await self._diff(
                report,
                "order",
                order.client_order_id,
                order.status.value,
                "absent",
                message,
                severity=Severity.CRITICAL,
            )

    # -- trades and positions -------------------------------------------------------------
    async def _trades(
        self,
        trades: list[dict[str, Any]],
        by_broker_id: dict[str, str],
        local: dict[str, OrderRecord],
        report: ReconcileReport,
    ) -> None:
        journalled = {f.trade_id for f in await self._store.list_fills(Broker.ZERODHA)}
        for trade in trades:
            trade_id = str(trade.get("trade_id"))
            tag = by_broker_id.get(str(trade.get("order_id")), "")
            if tag not in local or trade_id in journalled:
                continue  # foreign trades surface through their order and the positions
            if tag in report.caught_up:
                continue  # fed through the update path just now
            await self._diff(
                report,
                "trade",
                trade_id,
                "absent",
                f"{trade.get('quantity')} @ {trade.get('average_price')}",
                f"trade {trade_id} of order {tag} is not in the journal",
            )

    async def _positions(self, net: list[dict[str, Any]], report: ReconcileReport) -> None:
        local: dict[str, int] = defaultdict(int)
        for position in await self._store.list_positions(Broker.ZERODHA):
            local[position.symbol] += position.net_quantity
        remote: dict[str, int] = defaultdict(int)
        for row in net:
            remote[f"{row.get('exchange')}:{row.get('tradingsymbol')}"] += int(
                row.get("quantity") or 0
            )
        for symbol in sorted(set(local) | set(remote)):
            if local[symbol] != remote[symbol]:
                await self._diff(
                    report,
                    "position",
                    symbol,
                    str(local[symbol]),
                    str(remote[symbol]),
                    f"{symbol}: net {local[symbol]} here, {remote[symbol]} at Zerodha",
                )

    async def _diff(
        self,
        report: ReconcileReport,
        subject: str,
        key: str,
        local: str,
        remote: str,
        message: str,
        severity: Severity = Severity.WARNING,
    ) -> None:
        diff = ReconciliationDiff(
            broker=Broker.ZERODHA,
            subject=subject,
            key=key,
            local=local,
            remote=remote,
            message=message,
        )
        report.diffs.append(diff)
        log.warning("reconciliation difference", extra={"subject": subject, "key": key})
        await self._publish(EventType.RECONCILIATION_DIFF, diff, key)
        alert = RiskAlert(
            severity=severity,
            rule=RULE,
            message=message,
            broker=Broker.ZERODHA,
            alert_ts=self._clock.now_ns(),
        )
        await self._publish(EventType.RISK_ALERT, alert, key)
