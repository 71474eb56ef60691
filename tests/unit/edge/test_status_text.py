"""``alphapanda status`` wording for a snapshot that carries today's figures."""

from __future__ import annotations

from alphapanda_tui.commands.status_text import status_lines


def test_day_and_overall_pnl_are_separate_lines_spelt_as_on_screen() -> None:
    status = {
        "mode": "paper",
        "engine": {"running": False, "pid": None},
        "trading_state": {"mode": "ACTIVE", "reason": "", "operator": ""},
        "strategies": [],
        "positions": [],
        "open_orders": [],
        "pnl": {
            "snapshot_ts": 1_767_587_400_000_000_000,  # 05 Jan 2026 10:00 IST
            "realized_pnl": "-2019.4",
            "unrealized_pnl": "500",
            "charges": "30.5",
            "equity": "998450.1",
            "trading_day": "2026-01-05",
            "day_realized_pnl": "-1000",
            "day_unrealized_pnl": "250.25",
            "day_charges": "10",
        },
    }

    lines = status_lines(status)

    (day,) = [line for line in lines if line.strip().startswith("day")]
    (overall,) = [line for line in lines if line.strip().startswith("overall")]
    assert day.split() == (
        "day 2026-01-05 P&L -759.75 realized -1,000.00 unrealized +250.25 charges 10.00".split()
    )
    assert "P&L -1,549.90" in overall and "equity 998,450.10" in overall
    assert "snapshot at 05 Jan 2026 10:00:00 IST" in lines[-3]
