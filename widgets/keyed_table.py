"""``KeyedTable``: a DataTable that is brought up to date by diff, never cleared.

A trader's cursor and scroll position survive every refresh, and a refresh of a table
of 500 rows in which one price moved costs one ``update_cell``.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

Row = tuple[object, ...]


class KeyedTable(DataTable):
    """Rows keyed by a string; ``sync`` adds new rows, updates changed cells, drops stale ones."""

    def __init__(self, columns: Sequence[tuple[str, str, int]], **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)  # type: ignore[arg-type]
        self._column_spec = list(columns)
        self._cells: dict[str, Row] = {}
        self._order: list[str] = []
        self.cell_updates = 0

    def on_mount(self) -> None:
        # Fixed widths: columns never jump while prices change, whenever rows arrive.
        for column_key, label, width in self._column_spec:
            self.add_column(label, key=column_key, width=width)

    @property
    def row_keys(self) -> list[str]:
        """Keys in display order."""
        return list(self._order)

    def cell_text(self, row_key: str, column_key: str) -> str:
        """What a trader reads in one cell (plain text)."""
        value = self.get_cell(row_key, column_key)
        return value.plain if isinstance(value, Text) else str(value)

    def sync(self, rows: Sequence[tuple[str, Row]]) -> None:
        """Make the table show ``rows`` (key, cells) in this order, touching only differences."""
        keys = [key for key, _ in rows]
        wanted = set(keys)
        for key in [k for k in self._cells if k not in wanted]:
            self.remove_row(key)
            del self._cells[key]
        columns = [spec[0] for spec in self._column_spec]
        for key, given in rows:
            first = given[0] if isinstance(given[0], Text) else Text(str(given[0]))
            cells = (first, *given[1:])
            old = self._cells.get(key)
            if old is None:
                self.add_row(*cells, key=key)
            elif old != cells:
                for column, before, after in zip(columns, old, cells, strict=True):
                    if before != after:
                        self.update_cell(key, column, after, update_width=True)
                        self.cell_updates += 1
            self._cells[key] = cells
        if keys != self._order:
            self._reorder(keys)

    def _reorder(self, keys: list[str]) -> None:
        # ``sort`` hands the key function the row's cells, so rank them by the identity of
        # the first cell: a Text object stored once per row, never shared between rows.
        rank = {id(self.get_cell(key, self._column_spec[0][0])): i for i, key in enumerate(keys)}
        self.sort(key=lambda cells: rank.get(id(cells[0]), len(rank)))
        self._order = keys
