"""Identifiers: derived ids never change across versions; UUIDv7 ids are valid and unique."""

from __future__ import annotations

import threading
import uuid

from engine import ids
from engine.ids import client_order_id, derived_event_id, derived_uuid7, uuid7_str

CAUSE = "01890a5d-ac96-7ab2-80e2-4536629c90de"


def test_client_order_ids_are_pinned() -> None:
    # Computed by the original digit-by-digit implementation: a restarted engine must map
    # a redelivered signal to the very id already in the outbox, whatever version it runs.
    assert client_order_id(CAUSE) == "AP5BpPWWWnEMCwhFpd00"
    assert client_order_id("sig-1") == "AP4YXmUfnJw9KNve0c00"
    assert client_order_id("cmd-7:ema:408065", prefix="SQ") == "SQUBZ7kQdUD8mpyVMq10"
    assert client_order_id("x", prefix="A") == "AT2VUm6bgZp3tUTEj000"


def test_client_order_ids_are_the_same_from_the_cache_and_fit_kite_tags() -> None:
    first = client_order_id("sig-cache")
    assert client_order_id("sig-cache") == first
    ids._coid_cache.clear()
    assert client_order_id("sig-cache") == first
    assert len(first) == 20 and first.isalnum()
    assert client_order_id("sig-cache", prefix="SQ") != first  # the prefix is part of the key


def test_client_order_id_cache_is_bounded() -> None:
    for n in range(ids._COID_CACHE + 10):
        client_order_id(f"bound-{n}")
    assert len(ids._coid_cache) <= ids._COID_CACHE


def test_derived_ids_are_pinned() -> None:
    assert derived_event_id(CAUSE, "risk.paper", 0) == "01890a5d-ac96-7016-8a0f-f647d434d7ba"
    assert derived_event_id("sig-1", "execution.paper", 2) == (
        "818ae75a-1ce8-7eec-9107-0a54bc7ed7df"
    )
    assert derived_uuid7(CAUSE, "signal:ema", 1, 1704080700000) == (
        "018cc31f-f260-7ace-8458-646a1680d952"
    )


def test_uuid7_strings_are_valid_version_7_ids_and_unique() -> None:
    made = [uuid7_str() for _ in range(20_000)]
    assert len(set(made)) == len(made)
    for text in made[:50] + made[-50:]:
        parsed = uuid.UUID(text)
        assert parsed.version == 7 and parsed.variant == uuid.RFC_4122 and str(parsed) == text
    stamps = [text[:13] for text in made]
    assert stamps == sorted(stamps)  # time-ordered by millisecond


def test_uuid7_counter_running_out_draws_new_random_bits() -> None:
    ms = 1_700_000_000_000
    state = ids._new_uuid7_millisecond(ms)
    for _ in range(0x1000):
        next(state[1])  # exhaust the 12-bit counter of this millisecond
    ids._uuid7 = state
    ids._time_ns = lambda: ms * 1_000_000
    try:
        one, two = uuid7_str(), uuid7_str()
    finally:
        ids._time_ns = ids.time.time_ns
    assert one != two and one[:13] == two[:13]  # same millisecond, fresh rand_b
    assert uuid.UUID(one).version == 7


def test_uuid7_state_is_forgotten_in_a_forked_child() -> None:
    uuid7_str()
    ids._forget_uuid7_state()
    assert ids._uuid7[0] == -1  # the child starts a new millisecond state of its own
    assert uuid.UUID(uuid7_str()).version == 7


def test_uuid7_strings_are_unique_across_threads() -> None:
    made: list[list[str]] = [[] for _ in range(4)]

    def work(out: list[str]) -> None:
        out.extend(uuid7_str() for _ in range(5_000))

    threads = [threading.Thread(target=work, args=(out,)) for out in made]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [i for out in made for i in out]
    assert len(set(everything)) == len(everything)
