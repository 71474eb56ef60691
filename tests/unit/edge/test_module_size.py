"""No source module over 500 lines (issue 15): a newcomer reads one concern per file.

A module that grows past it is split by concern (as ``engine/processing/handover.py``
left ``processor.py``, ``alphapanda_tui/stop_signals.py`` left ``app.py``), not trimmed.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("engine", "storage", "alphapanda_tui", "screens", "widgets")
LIMIT = 500


def test_no_source_module_is_over_500_lines() -> None:
    modules = [p for package in PACKAGES for p in (ROOT / package).rglob("*.py")]
    assert len(modules) > 100  # the tree was found
    sizes = {str(p.relative_to(ROOT)): len(p.read_text().splitlines()) for p in modules}
    assert {m: n for m, n in sizes.items() if n > LIMIT} == {}
