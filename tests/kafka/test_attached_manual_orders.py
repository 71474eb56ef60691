"""Orders by hand from a console attached to a Kafka cluster: the console finds the
instrument in its registry (loaded as the embedded runtime loads it), publishes the order
where strategies publish theirs, and the engine process judges, sends and fills it; a
resting LIMIT placed the same way is modified (its count in the cluster's audit log) and
cancelled from the console. The CLI does the same
against a Kafka engine, through its requests in the shared database."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from alphapanda_tui.attach import AttachedRuntime
from alphapanda_tui.order_modify import OrderModifier
from engine.domain.projection import project
from engine.domain.records import OrderRecord
from engine.events.types import OrderStatus, OrderType, Product, Side
from engine.trading_state.manual import MANUAL_STRATEGY, OrderTicket
from engine.trading_state.manual_requests import modifications_done
from screens.modify_dialog import OrderChanges
from storage.migrate import upgrade_async
from storage.store import SqlTradingStore
from tests.engine_process import ALPHAPANDA
from tests.kafka.cluster import (
    BROKER,
    EngineProcess,
    cluster_env,
    poll,
    postgres_database,
    random_prefix,
    settings_for,
)

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]
OPERATOR = "trader@desk-1"


async def _stored(db_url: str, coid: str) -> OrderRecord | None:
    async with await SqlTradingStore.open(db_url) as store:
        return await store.get_order(coid)


async def _poll_or_say_why(db_url: str, condition: Any, what: str) -> None:
    """``poll``, failing with the manual orders' refusals (``outcome.order`` rows)."""
    try:
        await poll(condition, 60, what)
    except AssertionError as exc:
        async with await SqlTradingStore.open(db_url) as store:
            rows = await store.list_audit_after(0, "outcome.order", limit=20)
            orders = await store.list_orders(BROKER, limit=1_000_000)
        manual = [
            (o.client_order_id, o.status.value, o.reason)
            for o in orders
            if o.strategy == MANUAL_STRATEGY
        ]
        states = Counter(o.status.value for o in orders)
        raise AssertionError(
            f"{exc}; refusals: {[row.detail for row in rows]}; manual: {manual}; all: {states}"
        ) from None


async def test_an_attached_console_places_a_filled_order_modifies_and_cancels_a_resting_one(
    fresh_kafka: str, postgres_url: str, tmp_path: Path
) -> None:
    prefix = random_prefix()
    async with postgres_database(postgres_url) as db_url:

        def env(name: str) -> dict[str, str]:
            values = cluster_env(tmp_path / name, fresh_kafka, db_url, None, prefix)
            # the strategy's orders pile up on this fast market: keep room for the trader's
            values["ALPHAPANDA_RISK__MAX_OPEN_ORDERS"] = "1000000"
            values["ALPHAPANDA_FEED__TICK_INTERVAL_MS"] = "200"  # a calmer market, fewer orders
            return values

        await upgrade_async(db_url)
        engine = EngineProcess.start("engine", env("engine"))
        console = AttachedRuntime(settings_for(env("console")), operator=OPERATOR)
        try:
            await engine.started()
            await console.start()
            model = console.read_model
            infy = console.registry.get("NSE:INFY")
            assert infy is not None
            # an INFY order of the strategy: risk has priced INFY, as it must a manual order
            await poll(
                lambda: (
                    infy.instrument_token in model.ltp
                    and any(o.symbol == "NSE:INFY" for o in model.orders.values())
                ),
                60,
                "the engine trades INFY",
            )

            market = OrderTicket(side=Side.BUY, symbol="INFY", quantity=3, product=Product.CNC)
            filled = await console.controls.place_order(
                market, request_id="attached-1", operator=OPERATOR
            )

            async def is_filled() -> bool:
                order = await _stored(db_url, filled)
                return order is not None and order.status is OrderStatus.FILLED

            await _poll_or_say_why(db_url, is_filled, f"the manual order {filled} FILLED")
            order = await _stored(db_url, filled)
            assert order is not None
            assert (order.strategy, order.quantity, order.filled_quantity) == (
                MANUAL_STRATEGY,
                3,
                3,
            )
            await poll(
                lambda: (
                    filled in model.orders and model.orders[filled].status is OrderStatus.FILLED
                ),
                15,
                "the console shows it FILLED",
            )

            # 2% under the last price the console saw: inside risk's 5% band, and it rests
            below = (model.ltp[infy.instrument_token] * Decimal("0.98")).quantize(Decimal("1"))
            resting = OrderTicket(
                side=Side.BUY,
                symbol="NSE:INFY",
                quantity=1,
                order_type=OrderType.LIMIT,
                product=Product.CNC,
                price=below,
            )
            coid = await console.controls.place_order(
                resting, request_id="attached-2", operator=OPERATOR
            )

            async def is_working() -> bool:
                stored = await _stored(db_url, coid)
                return stored is not None and stored.status is OrderStatus.OPEN

            try:
                await _poll_or_say_why(db_url, is_working, f"the LIMIT {coid} at {below} working")
            except AssertionError as exc:
                lines = [x for x in engine.output.splitlines() if "manual" in x or "rror" in x]
                raise AssertionError(f"{exc} {lines[-20:]}") from None
            await poll(lambda: coid in model.orders, 15, "the console shows the LIMIT")
            modifier = OrderModifier(console, OPERATOR)  # the orders book's m, confirmed
            said = await modifier.send(model.orders[coid], OrderChanges(price=below + 1))
            assert "modification 1 of 25" in said

            async def modified() -> bool:
                stored = await _stored(db_url, coid)
                return stored is not None and stored.price == below + 1

            await _poll_or_say_why(db_url, modified, f"the LIMIT {coid} modified")
            async with await SqlTradingStore.open(db_url) as store:
                assert await modifications_done(store, coid) == 1  # what the CLI counts
            update = model.orders[coid]
            record = project(OrderRecord, update, signal_id="", updated_ts=update.update_ts)
            await console.controls.cancel_order(record, coid, operator=OPERATOR)

            async def is_cancelled() -> bool:
                stored = await _stored(db_url, coid)
                return stored is not None and stored.status is OrderStatus.CANCELLED

            await poll(is_cancelled, 30, f"the LIMIT {coid} CANCELLED in the store")
            assert engine.terminate() == 0, engine.output[-3000:]
        finally:
            await console.stop()
            engine.close()
        assert "Traceback" not in engine.output, engine.output[-3000:]


def test_an_attached_console_knows_the_cluster_instruments(tmp_path: Path) -> None:
    """Without a broker: the registry is there before the console attaches."""
    env = cluster_env(tmp_path, "127.0.0.1:1", "sqlite+aiosqlite:///unused.db", None, "p")
    console = AttachedRuntime(settings_for(env), operator=OPERATOR)
    infy = console.registry.get("NSE:INFY")
    assert infy is not None and infy.tick_size == Decimal("0.05")


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """One ``alphapanda`` command as from a script, on the cluster's settings."""
    return subprocess.run(
        [str(ALPHAPANDA), *args],
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=env["ALPHAPANDA_HOME"],
        check=False,
    )


async def test_the_cli_places_and_cancels_on_a_kafka_engine(
    fresh_kafka: str, postgres_url: str, tmp_path: Path
) -> None:
    prefix = random_prefix()
    async with postgres_database(postgres_url) as db_url:
        env = cluster_env(tmp_path / "engine", fresh_kafka, db_url, None, prefix)
        env["ALPHAPANDA_RISK__MAX_OPEN_ORDERS"] = "1000000"
        env["ALPHAPANDA_FEED__TICK_INTERVAL_MS"] = "200"
        await upgrade_async(db_url)
        engine = EngineProcess.start("engine", env)
        try:
            await engine.started()

            async def infy_traded() -> bool:
                async with await SqlTradingStore.open(db_url) as store:
                    orders = await store.list_orders(BROKER, limit=1_000)
                return any(o.symbol == "NSE:INFY" for o in orders)

            await poll(infy_traded, 60, "the engine trades INFY")  # risk has priced it

            done = await asyncio.to_thread(_cli, env, "order", "buy", "INFY", "3", "--yes")
            assert done.returncode == 0, done.stdout + done.stderr
            assert " FILLED" in done.stdout, done.stdout

            coid = done.stdout.split()[0]
            stored = await _stored(db_url, coid)
            assert stored is not None and stored.status is OrderStatus.FILLED
            assert stored.strategy == MANUAL_STRATEGY

            last = stored.average_price
            assert last is not None
            below = str((last * Decimal("0.98")).quantize(Decimal("1")))
            done = await asyncio.to_thread(
                _cli, env, "order", "buy", "INFY", "1", "--limit", below, "--yes"
            )
            assert done.returncode == 0 and " OPEN" in done.stdout, done.stdout + done.stderr
            resting = done.stdout.split()[0]
            done = await asyncio.to_thread(_cli, env, "cancel", resting, "--yes")
            assert done.returncode == 0, done.stdout + done.stderr

            async def cancelled() -> bool:
                order = await _stored(db_url, resting)
                return order is not None and order.status is OrderStatus.CANCELLED

            await _poll_or_say_why(db_url, cancelled, f"the LIMIT {resting} CANCELLED")
            assert engine.terminate() == 0, engine.output[-3000:]
        finally:
            engine.close()
        assert "Traceback" not in engine.output, engine.output[-3000:]
