"""``ALPHAPANDA_RISK__MIS_SQUARE_OFF``: the MIS cut-off table read from one env value.

Written as ``NSE=15:15,MCX=23:30`` (or a JSON object), so a trader can move one segment's
cut-off without restating the rest; an empty value switches the engine's square-off off
(the broker's own at 15:20 then applies, with its fee).
"""

from __future__ import annotations

from datetime import time
from typing import Any

from alphapanda_tui.settings.pairs import pairs_table
from engine.market.square_off import DEFAULT_MIS_CUTOFFS

DEFAULT_DOC = "NSE/BSE/NFO/BFO=15:15, CDS/BCD=16:45, MCX=23:30"


def default_cutoffs() -> dict[str, time]:
    return dict(DEFAULT_MIS_CUTOFFS)


def parse_cutoffs(value: Any) -> dict[str, time]:
    """``SEGMENT=HH:MM`` pairs (comma-separated or a JSON object) as a table of IST times."""
    value = pairs_table(value, pair_form="SEGMENT=HH:MM", example="NSE=15:15,MCX=23:30")
    table: dict[str, time] = {}
    for segment, at in value.items():
        name = str(segment).strip().upper()
        if not name.isalpha():
            raise ValueError(f"segment {segment!r} is not an exchange segment like NSE or MCX")
        table[name] = at if isinstance(at, time) else _time(str(at), name)
    return table


def _time(text: str, segment: str) -> time:
    try:
        at = time.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"the {segment} cut-off {text.strip()!r} is not a time like 15:15"
        ) from None
    if at.tzinfo is not None:
        raise ValueError(f"the {segment} cut-off is IST: give it without a time zone")
    return at
