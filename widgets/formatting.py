"""How money, quantities, times and states read on screen, in one place.

Every state is written in words as well as colour, so the console reads the same on a
monochrome SSH terminal.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from rich.color import Color, ColorParseError
from rich.text import Text

from engine.clock import IST, ns_to_datetime
from engine.events.types import ComponentStatus, OrderStatus, OrderType, Severity, Side, TradingMode
from engine.money import amount, signed_amount

STATE_STYLE: dict[TradingMode, str] = {
    TradingMode.ACTIVE: "bold $success",
    TradingMode.REDUCING: "bold $warning",
    TradingMode.HALTED: "bold $error",
}
SEVERITY_STYLE: dict[Severity, str] = {
    Severity.INFO: "dim",
    Severity.WARNING: "$warning",
    Severity.CRITICAL: "bold $error",
}
COMPONENT_STYLE: dict[ComponentStatus, str] = {
    ComponentStatus.RUNNING: "$success",
    ComponentStatus.PAUSED: "$warning",
    ComponentStatus.DEGRADED: "$warning",
    ComponentStatus.STOPPED: "$error",
    ComponentStatus.DOWN: "bold $error",
}


_FALLBACK = {"success": "green", "error": "red", "warning": "yellow", "primary": "blue"}


class Palette:
    """Theme colours for Rich text in tables: ``$success`` style names resolved once per theme.

    Table cells and panel text are Rich Text, which knows nothing of Textual's CSS variables.
    """

    def __init__(self, theme_variables: dict[str, str] | None = None) -> None:
        self._colours: dict[str, str] = dict(_FALLBACK)
        for name in _FALLBACK:
            value = (theme_variables or {}).get(name)
            if value:
                try:
                    self._colours[name] = Color.parse(value).name
                except ColorParseError:
                    pass

    def style(self, spec: str) -> str:
        """``"bold $error"`` → ``"bold #e0403a"`` (or a named colour)."""
        return " ".join(
            self._colours.get(word[1:], "") if word.startswith("$") else word
            for word in spec.split()
        ).strip()

    def text(self, value: str, spec: str = "", justify: str | None = None) -> Text:
        # justify is one of rich's JustifyMethod words, which a plain str cannot say.
        return Text(value, style=self.style(spec), justify=justify)  # type: ignore[arg-type]


PLAIN = Palette()


def money(value: Decimal | None, places: int = 2) -> str:
    """``123,456.70``; '—' when unknown (``engine.money``, shared with the CLI)."""
    return amount(value, places)


def signed_money(value: Decimal | None, palette: Palette = PLAIN) -> Text:
    """Profit in $success, loss in $error, with an explicit sign so colour is optional."""
    if value is None:
        return Text("—", justify="right")
    spec = "$success" if value > 0 else "$error" if value < 0 else ""
    return palette.text(signed_amount(value), spec, "right")


def right(value: str) -> Text:
    return Text(value, justify="right")


def quantity(value: int, palette: Palette = PLAIN) -> Text:
    """Long positive, short negative; the sign says it without colour."""
    spec = "$success" if value > 0 else "$error" if value < 0 else "dim"
    return palette.text(f"{value:+,d}" if value else "0", spec, "right")


def side_text(side: Side, palette: Palette = PLAIN) -> Text:
    return palette.text(side.value, "$success" if side is Side.BUY else "$error")


# Statuses and order types in at most 9 cells, so the column never cuts a word.
STATUS_WORD: dict[OrderStatus, str] = {
    OrderStatus.PARTIALLY_FILLED: "PARTIAL",
    OrderStatus.TRIGGER_PENDING: "TRIGGER",
}
ORDER_TYPE_WORD: dict[OrderType, str] = {OrderType.MARKET: "MKT", OrderType.LIMIT: "LMT"}
DEFAULT_EXCHANGE = "NSE:"


def status_text(status: OrderStatus, palette: Palette = PLAIN) -> Text:
    word = STATUS_WORD.get(status, status.value)
    if status is OrderStatus.REJECTED:
        return palette.text(word, "bold $error")
    if status is OrderStatus.FILLED:
        return palette.text(word, "$success")
    if status.is_working:
        return palette.text(word, "bold $warning")
    return palette.text(word, "dim")


def order_type_text(order_type: OrderType) -> str:
    return ORDER_TYPE_WORD.get(order_type, order_type.value)


def symbol_text(symbol: str) -> str:
    """``NSE:INFY`` → ``INFY``: the default exchange goes without saying; others keep it."""
    return symbol.removeprefix(DEFAULT_EXCHANGE)


def state_text(mode: TradingMode, palette: Palette = PLAIN) -> Text:
    """A trading state in its colour; the word itself carries the meaning."""
    return palette.text(mode.value, STATE_STYLE[mode])


def ist_time(ts_ns: int | None, seconds: bool = True) -> str:
    if not ts_ns:
        return "—"
    return ns_to_datetime(ts_ns, IST).strftime("%H:%M:%S" if seconds else "%H:%M")


def ist_date(ts_ns: int | None) -> date | None:
    """The IST calendar day of ``ts_ns`` (the day rows are compared with), None if unknown."""
    return ns_to_datetime(ts_ns, IST).date() if ts_ns else None


def run_time(ts_ns: int | None, today: date | None) -> str:
    """A row's time in the run's clock: ``15:29:04`` today, ``03 Dec 15:29`` another day."""
    if not ts_ns:
        return "—"
    local = ns_to_datetime(ts_ns, IST)
    if today is None or local.date() == today:
        return local.strftime("%H:%M:%S")
    return local.strftime("%d %b %H:%M")


def clock_text(now_ns: int | None, label: str | None) -> str:
    """The header's clock: ``SIM 15 Jan 2025 10:15:00 IST`` or ``04 Dec 2026 23:15:02 IST``."""
    prefix = f"{label} " if label else ""
    if now_ns is None:
        return f"{prefix}waiting for the first tick"
    return prefix + ns_to_datetime(now_ns, IST).strftime("%d %b %Y %H:%M:%S IST")


def duration(seconds: float) -> str:
    """``5h12m``, ``3m05s``, ``42s``: how long until or since."""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"
