"""Channel files: routing, JSON fields, correlation ids, rotation, re-setup."""

from __future__ import annotations

import logging
import stat

import pytest

from engine.logs import channel_for, set_correlation_id, setup_logging
from engine.logs.context import reset_correlation_id
from tests.unit.edge.conftest import read_lines


@pytest.mark.parametrize(
    ("logger_name", "channel"),
    [
        ("alphapanda.execution.paper", "trading"),
        ("alphapanda.portfolio", "trading"),
        ("alphapanda.trading_state", "risk"),
        ("alphapanda.tradingview", "application"),
        ("alphapanda.trading", "trading"),
        ("alphapanda.risk.rules", "risk"),
        ("alphapanda.audit", "audit"),
        ("alphapanda.bus", "application"),
        ("aiokafka.consumer", "application"),
    ],
)
def test_logger_names_route_to_channels(logger_name, channel) -> None:
    assert channel_for(logger_name) == channel


def test_each_channel_gets_its_records_and_errors_are_copied(logs) -> None:
    logging.getLogger("alphapanda.execution.paper").info("order filled")
    logging.getLogger("alphapanda.risk").warning("order rejected")
    logging.getLogger("alphapanda.audit").info("kill switch by ops@desk")
    logging.getLogger("alphapanda.bus").error("bus broke")
    logs.flush()

    def messages(channel: str) -> list[object]:
        return [line["message"] for line in read_lines(logs.file_for(channel))]

    assert messages("trading") == ["order filled"]
    assert messages("risk") == ["order rejected"]
    assert messages("audit") == ["kill switch by ops@desk"]
    assert messages("application") == ["bus broke"]
    assert messages("errors") == ["bus broke"]


def test_lines_carry_fields_extras_and_the_current_correlation_id(logs) -> None:
    token = set_correlation_id("corr-123")
    try:
        logging.getLogger("alphapanda.processing").info(
            "dead-lettered",
            extra={"topic": "paper.orders.filled", "key": "paper:s1:INFY", "event_id": "e1"},
        )
    finally:
        reset_correlation_id(token)
    logs.flush()
    (line,) = read_lines(logs.file_for("application"))
    assert line["level"] == "INFO" and line["logger"] == "alphapanda.processing"
    assert line["channel"] == "application"
    assert str(line["ts"]).endswith("Z") and "T" in str(line["ts"])
    assert line["correlation_id"] == "corr-123"
    assert (line["topic"], line["key"], line["event_id"]) == (
        "paper.orders.filled",
        "paper:s1:INFY",
        "e1",
    )


def test_exceptions_are_logged_with_their_traceback(logs) -> None:
    try:
        raise RuntimeError("handler blew up")
    except RuntimeError:
        logging.getLogger("alphapanda.trading").exception("failed")
    logs.flush()
    (line,) = read_lines(logs.file_for("errors"))
    assert "RuntimeError: handler blew up" in str(line["exc"])


def test_third_party_info_is_quiet_but_warnings_reach_application(logs) -> None:
    logging.getLogger("aiokafka.consumer").info("chatter")
    logging.getLogger("sqlalchemy.engine").warning("pool exhausted")
    logs.flush()
    assert [line["message"] for line in read_lines(logs.file_for("application"))] == [
        "pool exhausted"
    ]


def test_files_rotate_at_max_bytes_and_keep_backup_count(isolated_home) -> None:
    runtime = setup_logging(
        isolated_home, level="INFO", ring_capacity=10, max_bytes=2000, backup_count=2
    )
    try:
        log = logging.getLogger("alphapanda.trading")
        for index in range(200):
            log.info("fill %d %s", index, "x" * 40)
        runtime.flush()
    finally:
        runtime.close()
    files = sorted(path.name for path in (isolated_home / "logs").glob("trading.jsonl*"))
    assert files == ["trading.jsonl", "trading.jsonl.1", "trading.jsonl.2"]
    assert all(path.stat().st_size <= 2000 for path in (isolated_home / "logs").glob("trading*"))
    newest = [line["message"] for line in read_lines(isolated_home / "logs" / "trading.jsonl")]
    assert str(newest[-1]).startswith("fill 199 ")


def test_log_files_are_owner_only(logs) -> None:
    logging.getLogger("alphapanda.audit").info("login")
    logs.flush()
    assert stat.S_IMODE(logs.file_for("audit").stat().st_mode) == 0o600


def test_log_files_stay_owner_only_under_a_loose_umask_and_after_rotation(
    isolated_home,
) -> None:
    import os

    logs_dir = isolated_home / "logs"
    logs_dir.mkdir(mode=0o700)
    stale = logs_dir / "audit.jsonl"
    stale.write_text("")
    os.chmod(stale, 0o644)  # left by an older version
    previous = os.umask(0o000)
    try:
        runtime = setup_logging(isolated_home, level="DEBUG", max_bytes=1024, backup_count=2)
        try:
            for n in range(40):
                logging.getLogger("alphapanda.audit").info("kill switch pressed %d", n)
                logging.getLogger("alphapanda.execution").info("order sent %d", n)
            runtime.flush()
        finally:
            runtime.close()
    finally:
        os.umask(previous)
    files = [p for p in logs_dir.iterdir() if p.is_file()]
    assert any(p.name == "audit.jsonl.1" for p in files)  # rotated at least once
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in files} == {p.name: 0o600 for p in files}
    assert stat.S_IMODE(logs_dir.stat().st_mode) == 0o700


def test_setup_again_replaces_handlers_so_lines_are_not_doubled(isolated_home) -> None:
    first = setup_logging(isolated_home, level="INFO", ring_capacity=10)
    second = setup_logging(isolated_home, level="INFO", ring_capacity=10)
    try:
        logging.getLogger("alphapanda.audit").info("once")
        second.flush()
        assert [line["message"] for line in read_lines(second.file_for("audit"))] == ["once"]
        assert first.closed and first.ring.entries() == []
    finally:
        second.close()
    logging.getLogger("alphapanda.audit").info("after close")
    assert len(read_lines(second.file_for("audit"))) == 1


def test_text_files_when_json_is_off(isolated_home) -> None:
    runtime = setup_logging(isolated_home, level="INFO", json_lines=False)
    try:
        logging.getLogger("alphapanda.risk").warning("limit hit")
        runtime.flush()
        text = (isolated_home / "logs" / "risk.log").read_text()
    finally:
        runtime.close()
    assert "WARNING" in text and "risk" in text and "limit hit" in text
