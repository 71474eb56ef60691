"""The archive of past backtests: newest first, bounded, and a damaged file never fatal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from storage.backtest_archive import BacktestArchive

T0 = datetime(2026, 12, 7, 5, 0, tzinfo=UTC)


def save(archive: BacktestArchive, n: int, strategy: str = "ema-cross") -> Path:
    summary = {"strategy": strategy, "seed": n}
    report = {
        "net_pnl": str(n),
        "equity_curve": [[0, "1000000"], [1, str(1000000 + n)]],
        "trade_list": [{"symbol": "NSE:INFY"}] * 3,
    }
    return archive.save(summary, report, T0 + timedelta(seconds=n))


def test_newest_first_only_the_last_keep_and_no_trade_list(tmp_path: Path) -> None:
    archive = BacktestArchive(tmp_path / "backtests", keep=3)
    for n in range(5):
        save(archive, n)

    recent = archive.recent()

    assert [r.summary["seed"] for r in recent] == [4, 3, 2]
    assert len(list((tmp_path / "backtests").iterdir())) == 3  # no temporary file left
    assert "trade_list" not in recent[0].report
    assert [str(e) for e in recent[0].equities] == ["1000000", "1000004"]


def test_a_damaged_file_is_skipped_and_a_strategy_name_cannot_leave_the_folder(
    tmp_path: Path,
) -> None:
    archive = BacktestArchive(tmp_path / "backtests", keep=5)
    good = save(archive, 1, strategy="../../evil name")
    (tmp_path / "backtests" / "20991231T000000000000-broken.json").write_text("{not json")

    recent = archive.recent()

    assert [r.name for r in recent] == [good.stem]
    assert good.parent == tmp_path / "backtests" and "/" not in good.name.replace(".json", "")


def test_no_folder_yet_is_no_runs(tmp_path: Path) -> None:
    assert BacktestArchive(tmp_path / "nowhere", keep=2).recent() == []
