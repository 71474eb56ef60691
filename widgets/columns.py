"""The columns the console's order tables share, defined once.

A time, a symbol or a quantity is as wide, and gives up cells the same way, in the
dashboard's orders panel and in the orders and trade books.
"""

from __future__ import annotations

from widgets.keyed_table import Column

TIME = Column("time", "Time", 8)
# An order's row is stamped with its last update (a fill, a cancel), not its placing:
# headed so, beside ``alphapanda orders``' "placed" (the two read as one "Time" disagreed).
UPDATED = Column("time", "Updated", 8)
SYMBOL = Column("symbol", "Symbol", 8, min_width=6)
SIDE = Column("side", "Side", 4)
QTY = Column("qty", "Qty", 3)
FILLED = Column("filled", "Filled", 6)
PRICE = Column("price", "Price", 8)
STATUS = Column("status", "Status", 6)
STRATEGY = Column("strategy", "Strategy", 8, min_width=4, drop=1)
REASON = Column("reason", "Reason", 6, min_width=6)
