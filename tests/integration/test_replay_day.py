"""``alphapanda --replay DATE``: a recorded day replays to the session's own orders, on a
store of its own, and an unrecorded day is refused with the days that were recorded."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from alphapanda_tui.cli import main
from tests.integration.replay_support import (
    DAY,
    record_session,
    replay_orders,
    replay_test_settings,
)


def _fingerprint(directory: Path) -> dict[str, str]:
    return {
        str(path.relative_to(directory)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


async def test_a_replayed_day_reproduces_the_recorded_sessions_orders(tmp_path: Path) -> None:
    home = tmp_path / "home"
    recorded = await record_session(home)
    assert len(recorded) >= 5, "the seeded session should trade"
    ticks_before = _fingerprint(home / "ticks")

    replayed = await replay_orders(home)

    assert replayed == recorded  # same times, strategies, sides, sizes, fills and prices
    # the replay recorded nothing: the day it replayed is byte for byte what it was
    assert _fingerprint(home / "ticks") == ticks_before
    # its state is under replays/<DATE>, never the trader's own database or pid file
    assert (home / "replays" / DAY.isoformat() / "alphapanda.db").is_file()
    assert not (home / "alphapanda.db").exists()
    assert not (home / "engine.pid").exists()


async def test_each_replay_starts_from_a_flat_book(tmp_path: Path) -> None:
    home = tmp_path / "home"
    recorded = await record_session(home)
    first = await replay_orders(home)
    second = await replay_orders(home)
    assert first == second == recorded  # not the first replay's orders twice over


async def test_an_unrecorded_day_is_refused_listing_the_recorded_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    await record_session(home)
    replay_test_settings(home)

    status = main(["--home", str(home), "--replay", "2026-12-03"])

    err = capsys.readouterr().err
    assert status == 2
    assert "no ticks recorded on 2026-12-03" in err
    assert "recorded days: 2026-12-04" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--replay", "04/12/2026"], "--replay wants a date YYYY-MM-DD, got '04/12/2026'"),
        (["--replay", "2026-12-04", "--speed", "fast"], "--speed: speed must be a positive"),
        (["--speed", "10"], "--speed is the speed of a --replay"),
        (["--replay", "2026-12-04", "--attach"], "--replay and --attach cannot be combined"),
    ],
)
def test_bad_replay_arguments_are_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    status = main(["--home", str(tmp_path), *argv])
    err = capsys.readouterr().err
    assert status == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_a_replay_in_live_mode_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALPHAPANDA_ZERODHA__API_KEY", "key")  # live mode's own checks pass
    monkeypatch.setenv("ALPHAPANDA_ZERODHA__API_SECRET", "secret")
    status = main(["--home", str(tmp_path), "--mode", "live", "--replay", "2026-12-04"])
    assert status == 2
    assert "--replay trades paper only: drop --mode live" in capsys.readouterr().err
