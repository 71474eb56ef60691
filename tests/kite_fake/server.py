"""A Kite-compatible REST + WebSocket server on loopback, for the real ``kiteconnect`` client.

REST speaks the documented envelopes (``status``/``data``, ``error_type``), gzipped
instrument CSVs, the session checksum and one-use request tokens. The ticker speaks
binary packets and text order updates. Knobs let tests script a broker's bad days:
rejections, 429s, a place call that times out after the order was created, a token
invalidated mid-session, a socket that goes silent.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import websockets
from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response

from tests.kite_fake import historical
from tests.kite_fake.packets import FakeQuote, frame, full_packet, ltp_packet, quote_packet

INSTRUMENT_HEADER = (
    "instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,"
    "tick_size,lot_size,instrument_type,segment,exchange"
)
DEFAULT_INSTRUMENTS = [
    "408065,1594,INFY,INFOSYS,1500,,0,0.05,1,EQ,NSE,NSE",
    "738561,2885,RELIANCE,RELIANCE INDUSTRIES,2900,,0,0.05,1,EQ,NSE,NSE",
    "2953217,11536,TCS,TATA CONSULTANCY SERV LT,4000,,0,0.05,1,EQ,NSE,NSE",
    "256265,1001,NIFTY 50,NIFTY 50,0,,0,0,0,EQ,INDICES,NSE",
]


@dataclass
class KiteState:
    """Everything the fake broker knows; tests read and script it."""

    api_key: str = "testkey"
    api_secret: str = "testsecret"
    user_id: str = "AB1234"
    user_name: str = "Asha Trader"
    request_tokens: dict[str, float] = field(default_factory=dict)  # token -> expires at
    access_tokens: set[str] = field(default_factory=set)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    trades: list[dict[str, Any]] = field(default_factory=list)
    positions: list[dict[str, Any]] = field(default_factory=list)
    instruments: list[str] = field(default_factory=lambda: list(DEFAULT_INSTRUMENTS))
    requests: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    # scripted behaviour of the next place_order calls: "reject" (OMS rejects after
    # accepting), "rms" (400 OrderException), "429", "timeout" (order created, answer
    # late), "timeout_absent" (answer late and the order never created)
    place_script: list[str] = field(default_factory=list)
    reject_reason: str = "Insufficient funds. Required margin is 1500.00 but available is 0.00"
    timeout_delay: float = 2.0
    fill_on_place: bool = False
    # autoslice: tradingsymbol -> freeze quantity, and the legs (1-based) Kite refuses
    freeze_quantities: dict[str, int] = field(default_factory=dict)
    autoslice_failed_legs: set[int] = field(default_factory=set)
    # Kite's trade book lags its order book: trade id -> trade reads it stays unlisted
    # for (None: until ``FakeKite.release_trades``)
    hidden_trades: dict[str, int | None] = field(default_factory=dict)
    # order id -> trade rows of *other* orders that its trade list shows as well
    misfiled_trades: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # order id -> its rows, one per state it went through, oldest first (order_history)
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # reads of the order book a new order stays OPEN PENDING for before the exchange
    # acknowledges it (OPEN, or TRIGGER PENDING for SL / SL-M)
    open_pending_reads: int = 1
    walking: dict[str, int] = field(default_factory=dict)  # order id -> reads left
    # (method, path) -> (HTTP status, body, content type) answered as is: Zerodha's own
    # mock responses, so the real client parses exactly what Kite sends
    canned: dict[tuple[str, str], tuple[int, bytes, str]] = field(default_factory=dict)
    # the equity segment's available margin (``net``) that margins and order margins
    # answer with; None: the figure in Zerodha's mock ``margins_equity.json``
    margin_available: float | None = None
    # scripted failures of the next margin requests: "error" (500 GeneralException)
    margin_script: list[str] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _trade_ids: itertools.count = field(default_factory=lambda: itertools.count(10000001))
    _exchange_ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def issue_request_token(self, token: str, ttl: float = 300.0) -> str:
        self.request_tokens[token] = time.time() + ttl
        return token

    def invalidate_all_tokens(self) -> None:
        """As a login elsewhere or a master logout does: every access token dies."""
        with self.lock:
            self.access_tokens.clear()

    def next_order_id(self) -> str:
        return f"2611240000{next(self._ids):05d}"

    def next_trade_id(self) -> str:
        """Kite's trade ids are digits (``"10000000"`` in Zerodha's mocks)."""
        return str(next(self._trade_ids))

    def record(self, order: dict[str, Any], status: str | None = None) -> None:
        """Set the order's status (if given) and append its row to the order's history."""
        if status is not None:
            order["status"] = status
        self.history.setdefault(order["order_id"], []).append(dict(order))

    def acknowledge(self, order_id: str) -> None:
        """The exchange takes an OPEN PENDING order: it gets its exchange order id and
        turns OPEN (TRIGGER PENDING for stop orders), one more history row."""
        if self.walking.pop(order_id, None) is None:
            return
        order = self.orders[order_id]
        order["exchange_order_id"] = f"13000000{next(self._exchange_ids):08d}"
        order["exchange_timestamp"] = order["exchange_update_timestamp"] = _now()
        working = "TRIGGER PENDING" if order["order_type"] in ("SL", "SL-M") else "OPEN"
        self.record(order, working)

    def read_book(self, order_ids: list[str]) -> None:
        """A read of the order book (or an order's history) ages the orders it showed."""
        for order_id in order_ids:
            left = self.walking.get(order_id)
            if left is None:
                continue
            if left <= 1:
                self.acknowledge(order_id)
            else:
                self.walking[order_id] = left - 1

    def listed_trades(self, order_id: str | None = None) -> list[dict[str, Any]]:
        """The trades a read shows (all, or one order's); each read ages hidden ones."""
        with self.lock:
            rows = [
                t
                for t in self.trades
                if (order_id is None or t["order_id"] == order_id)
                and t["trade_id"] not in self.hidden_trades
            ]
            if order_id is not None:
                rows += self.misfiled_trades.get(order_id, [])
            for trade_id, reads in list(self.hidden_trades.items()):
                if reads is not None:
                    if reads <= 1:
                        del self.hidden_trades[trade_id]
                    else:
                        self.hidden_trades[trade_id] = reads - 1
            return rows


def _now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S")


def _envelope(data: Any) -> bytes:
    return json.dumps({"status": "success", "data": data}).encode()


def _kite_tags(params: dict[str, str]) -> list[str]:
    """The tags Kite adds by itself: market protection on MARKET / SL-M orders shows as
    ``["mktp", "mktp:2.00"]`` in real rows (``-1``, automatic, is 2 % on equity)."""
    if params["order_type"] not in ("MARKET", "SL-M"):
        return []
    protection = float(params.get("market_protection") or 0)
    return ["mktp", f"mktp:{2.0 if protection < 0 else protection:.2f}"]


def _error(error_type: str, message: str) -> bytes:
    return json.dumps(
        {"status": "error", "message": message, "data": None, "error_type": error_type}
    ).encode()


class _Handler(BaseHTTPRequestHandler):
    server: _HttpServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # keep test output clean
        return

    # -- plumbing --------------------------------------------------------------------
    def _params(self) -> dict[str, Any]:
        parsed = urlparse(self.path)
        params = {k: v if len(v) > 1 else v[0] for k, v in parse_qs(parsed.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            body = self.rfile.read(length).decode()
            if "json" in (self.headers.get("Content-Type") or ""):
                params["_json"] = json.loads(body)
            else:
                params.update({k: v[0] for k, v in parse_qs(body).items()})
        return params

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        extra: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _authorized(self) -> bool:
        state = self.server.state
        auth = self.headers.get("Authorization") or ""
        prefix = f"token {state.api_key}:"
        if auth.startswith(prefix) and auth[len(prefix) :] in state.access_tokens:
            return True
        self._send(403, _error("TokenException", "Incorrect `api_key` or `access_token`."))
        return False

    def _route(self, method: str) -> None:
        path = urlparse(self.path).path
        params = self._params()
        state = self.server.state
        with state.lock:
            state.requests.append((method, path, params))
            canned = state.canned.get((method, path))
        if canned is not None:
            self._send(canned[0], canned[1], canned[2])
            return
        handler = self.server.routes.get((method, path.rstrip("/") or "/"))
        if handler is None:
            for (m, prefix), fn in self.server.prefix_routes.items():
                if m == method and path.startswith(prefix):
                    handler = fn
                    break
        if handler is None:
            self._send(404, _error("GeneralException", f"route not found: {method} {path}"))
            return
        handler(self, path, params)

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_PUT(self) -> None:
        self._route("PUT")

    def do_DELETE(self) -> None:
        self._route("DELETE")


# -- routes -------------------------------------------------------------------------
def _session_token(h: _Handler, path: str, p: dict[str, Any]) -> None:
    state = h.server.state
    if h.command == "DELETE":
        with state.lock:
            state.access_tokens.discard(p.get("access_token", ""))
        h._send(200, _envelope(True))
        return
    request_token = p.get("request_token", "")
    expected = hashlib.sha256(
        (state.api_key + request_token + state.api_secret).encode()
    ).hexdigest()
    with state.lock:
        expires = state.request_tokens.pop(request_token, None)
    if p.get("api_key") != state.api_key or p.get("checksum") != expected:
        h._send(403, _error("TokenException", "Invalid `checksum`."))
        return
    if expires is None or expires < time.time():
        h._send(403, _error("TokenException", "Token is invalid or has expired."))
        return
    access = f"acc{hashlib.sha1(request_token.encode()).hexdigest()[:20]}"
    with state.lock:
        state.access_tokens.add(access)
    h._send(
        200,
        _envelope(
            {
                "user_id": state.user_id,
                "user_name": state.user_name,
                "user_shortname": "Asha",
                "user_type": "individual",
                "email": "asha@example.com",
                "broker": "ZERODHA",
                "exchanges": ["NSE", "BSE", "NFO"],
                "products": ["CNC", "NRML", "MIS"],
                "order_types": ["MARKET", "LIMIT", "SL", "SL-M"],
                "avatar_url": None,
                "api_key": state.api_key,
                "access_token": access,
                "public_token": "pub",
                "refresh_token": "",
                "enctoken": "",
                "login_time": time.strftime("%Y-%m-%d %H:%M:%S"),
                "meta": {"demat_consent": "physical"},
            }
        ),
    )


def _profile(h: _Handler, path: str, p: dict[str, Any]) -> None:
    if h._authorized():
        s = h.server.state
        h._send(
            200,
            _envelope(
                {
                    "user_id": s.user_id,
                    "user_name": s.user_name,
                    "email": "asha@example.com",
                    "broker": "ZERODHA",
                }
            ),
        )


def _instruments(h: _Handler, path: str, p: dict[str, Any]) -> None:
    state = h.server.state
    exchange = path.rsplit("/", 1)[-1] if path.count("/") > 1 else None
    rows = [r for r in state.instruments if exchange is None or r.endswith("," + exchange)]
    body = gzip.compress(("\n".join([INSTRUMENT_HEADER, *rows]) + "\n").encode())
    h._send(200, body, "text/csv", {"Content-Encoding": "gzip"})


def _place(h: _Handler, path: str, p: dict[str, Any]) -> None:
    if not h._authorized():
        return
    state = h.server.state
    with state.lock:
        action = state.place_script.pop(0) if state.place_script else "ok"
    if action == "429":
        h._send(429, _error("NetworkException", "Too many requests"))
        return
    if action == "rms":
        h._send(400, _error("OrderException", state.reject_reason))
        return
    if action == "timeout_absent":
        time.sleep(state.timeout_delay)  # the client gives up; nothing reached the OMS
        h._send(503, _error("NetworkException", "Gateway timed out"))
        return
    required = (
        "exchange",
        "tradingsymbol",
        "transaction_type",
        "quantity",
        "product",
        "order_type",
    )
    missing = [k for k in required if k not in p]
    if missing:
        h._send(400, _error("InputException", f"Missing {', '.join(missing)}"))
        return
    if p["order_type"] in ("MARKET", "SL-M") and p.get("market_protection") in (None, "0"):
        h._send(
            400,
            _error("InputException", "market_protection is required for MARKET and SL-M orders"),
        )
        return
    tag = p.get("tag", "")
    if tag and (len(tag) > 20 or not tag.isalnum()):
        h._send(400, _error("InputException", "tag must be alphanumeric, at most 20 characters"))
        return
    freeze = state.freeze_quantities.get(p["tradingsymbol"])
    if str(p.get("autoslice")).lower() in ("true", "1") and freeze and int(p["quantity"]) > freeze:
        _place_autoslice(h, path, p, freeze)
        return
    order_id = _new_order(state, path, p, action)
    if action == "timeout":
        time.sleep(state.timeout_delay)  # the order exists; the client gives up first
    h._send(200, _envelope({"order_id": order_id}))
    if state.fill_on_place:
        h.server.fake.fill_order(order_id)


_AUTOSLICE_ANSWER = json.loads(
    (Path(__file__).parent.parent / "zerodha/kite_mocks/autoslice_response.json").read_text()
)["data"]


def _place_autoslice(h: _Handler, path: str, p: dict[str, Any], freeze: int) -> None:
    """Kite's autoslice answer (``autoslice_response.json``): a parent id that is no order
    of the book, and ``children[]``: each leg an order (untagged, ``tags`` naming the
    parent, as in ``orders.json``) or, for a scripted failed leg, the mock's error."""
    state = h.server.state
    with state.lock:
        parent = state.next_order_id()
    quantity, children = int(p["quantity"]), []
    legs = [freeze] * (quantity // freeze) + ([quantity % freeze] if quantity % freeze else [])
    error = next(c["error"] for c in _AUTOSLICE_ANSWER["children"] if "error" in c)
    for n, leg in enumerate(legs, 1):
        if n in state.autoslice_failed_legs:
            children.append({"error": error})
            continue
        child = {**p, "quantity": str(leg), "tag": ""}
        order_id = _new_order(state, path, child, "ok", ["autoslice", f"autoslice:{parent}"])
        children.append({"order_id": order_id})
    h._send(200, _envelope({"order_id": parent, "children": children}))


def _new_order(
    state: KiteState,
    path: str,
    p: dict[str, Any],
    action: str,
    own_tags: list[str] = (),  # type: ignore[assignment]
) -> str:
    """Create an order in the book, walked to OPEN PENDING (or REJECTED); its id."""
    tag = p.get("tag", "")
    order_id = state.next_order_id()
    tags = ([tag] if tag else []) + list(own_tags) + _kite_tags(p)
    order = {
        "account_id": state.user_id,
        "placed_by": state.user_id,
        "terminal_id": "111111111111100",
        "order_id": order_id,
        "exchange_order_id": None,
        "parent_order_id": None,
        "status": "PUT ORDER REQ RECEIVED",
        "status_message": None,
        "status_message_raw": None,
        "order_timestamp": _now(),
        "exchange_update_timestamp": None,
        "exchange_timestamp": None,
        "variety": path.rsplit("/", 1)[-1],
        "modified": False,
        "exchange": p["exchange"],
        "tradingsymbol": p["tradingsymbol"],
        "instrument_token": _instrument_token(state, p["exchange"], p["tradingsymbol"]),
        "order_type": p["order_type"],
        "transaction_type": p["transaction_type"],
        "validity": p.get("validity", "DAY"),
        "validity_ttl": 0,
        "product": p["product"],
        "quantity": int(p["quantity"]),
        "disclosed_quantity": 0,
        "price": float(p.get("price") or 0),
        "trigger_price": float(p.get("trigger_price") or 0),
        "average_price": 0.0,
        "filled_quantity": 0,
        "pending_quantity": int(p["quantity"]),
        "cancelled_quantity": 0,
        "market_protection": int(p.get("market_protection") or 0),
        "meta": {},
        "tag": tag or None,
        "guid": f"{order_id}-fake",
    }
    if tags:  # real rows without any tag have no ``tags`` key at all
        order["tags"] = tags
    with state.lock:
        state.orders[order_id] = order
        state.record(order)
        state.record(order, "VALIDATION PENDING")
        if action == "reject":
            # Kite accepts the request and rejects in the OMS: the id comes back, REJECTED.
            order.update(status_message=state.reject_reason, pending_quantity=0)
            order["status_message_raw"] = state.reject_reason
            state.record(order, "REJECTED")
        else:
            state.record(order, "OPEN PENDING")
            state.walking[order_id] = state.open_pending_reads
            if state.open_pending_reads <= 0:
                state.acknowledge(order_id)
    return order_id


def _instrument_token(state: KiteState, exchange: str, tradingsymbol: str) -> int:
    for row in state.instruments:
        cells = row.split(",")
        if cells[2] == tradingsymbol and cells[-1] == exchange:
            return int(cells[0])
    return 0


def _order_by_id(h: _Handler, path: str, p: dict[str, Any]) -> None:
    if not h._authorized():
        return
    state = h.server.state
    parts = path.strip("/").split("/")
    if h.command == "GET":
        if path == "/orders":
            with state.lock:
                rows = [dict(o) for o in state.orders.values()]
                state.read_book([r["order_id"] for r in rows])
            h._send(200, _envelope(rows))
            return
        order_id = parts[1]
        if len(parts) == 3 and parts[2] == "trades":
            h._send(200, _envelope(state.listed_trades(order_id)))
            return
        with state.lock:
            rows = [dict(r) for r in state.history.get(order_id, [])]
            state.read_book([order_id] if rows else [])
        if not rows:
            h._send(400, _error("InputException", "Couldn't find that `order_id`."))
            return
        h._send(200, _envelope(rows))
        return
    if len(parts) != 3:
        _place(h, path, p)
        return
    order_id = parts[2]
    with state.lock:
        order = state.orders.get(order_id)
        if order is None or order["status"] in ("COMPLETE", "CANCELLED", "REJECTED"):
            h._send(400, _error("OrderException", "Order cannot be modified or cancelled"))
            return
        state.acknowledge(order_id)
        working = order["status"]
        order["exchange_update_timestamp"] = _now()
        if h.command == "DELETE":
            state.record(order, "CANCEL PENDING")
            order["cancelled_quantity"] = order["pending_quantity"]
            order["pending_quantity"] = 0
            state.record(order, "CANCELLED")
        else:
            state.record(order, "MODIFY VALIDATION PENDING")
            state.record(order, "MODIFY PENDING")
            for key in ("quantity", "price", "trigger_price"):
                if key in p:
                    order[key] = type(order[key])(float(p[key]))
            order["pending_quantity"] = order["quantity"] - order["filled_quantity"]
            order["modified"] = True
            state.record(order, "MODIFIED")
            state.record(order, working)
        snapshot = dict(order)
    h._send(200, _envelope({"order_id": order_id}))
    if h.command == "DELETE":
        h.server.fake.push_order_update(snapshot)


def _trades(h: _Handler, path: str, p: dict[str, Any]) -> None:
    if h._authorized():
        h._send(200, _envelope(h.server.state.listed_trades()))


def _positions(h: _Handler, path: str, p: dict[str, Any]) -> None:
    if h._authorized():
        h._send(200, _envelope(position_book(h.server.state)))


_MOCKS = Path(__file__).resolve().parents[1] / "zerodha" / "kite_mocks"
MIS_MARGIN_RATE = 0.2  # the fake's intraday margin: a fifth of the order's value


def _mock(name: str) -> Any:
    return json.loads((_MOCKS / name).read_text())["data"]


def _margin_failed(h: _Handler) -> bool:
    state = h.server.state
    with state.lock:
        step = state.margin_script.pop(0) if state.margin_script else None
    if step == "error":
        h._send(500, _error("GeneralException", "Margin service unavailable (scripted)"))
        return True
    return False


def _margins(h: _Handler, path: str, p: dict[str, Any]) -> None:
    """``margins()`` and ``margins("equity")``: Zerodha's mock rows, ``net`` as scripted."""
    if not h._authorized() or _margin_failed(h):
        return
    state = h.server.state
    equity = _mock("margins_equity.json")
    if state.margin_available is not None:
        equity["net"] = state.margin_available
        equity["available"]["live_balance"] = state.margin_available
    if path.rstrip("/").endswith("/equity"):
        h._send(200, _envelope(equity))
        return
    both = _mock("margins.json")
    both["equity"] = equity
    h._send(200, _envelope(both))


def _order_margin(state: KiteState, order: dict[str, Any]) -> dict[str, Any]:
    """Zerodha's mock order margin row for ``order``: value x (MIS 0.2, else 1.0)."""
    row = _mock("order_margins.json")[0]
    price = float(order.get("price") or 0) or _last_price(state, str(order["tradingsymbol"]))
    rate = MIS_MARGIN_RATE if order.get("product") == "MIS" else 1.0
    total = round(float(order["quantity"]) * price * rate, 2)
    row.update(
        tradingsymbol=order["tradingsymbol"], exchange=order["exchange"], var=total, total=total
    )
    return row


def _last_price(state: KiteState, tradingsymbol: str) -> float:
    for line in state.instruments:
        cells = line.split(",")
        if cells[2] == tradingsymbol:
            return float(cells[4])
    return 0.0


def _order_margins(h: _Handler, path: str, p: dict[str, Any]) -> None:
    """``order_margins`` (a row per order) and ``basket_order_margins`` (their sum)."""
    if not h._authorized() or _margin_failed(h):
        return
    state = h.server.state
    rows = [_order_margin(state, order) for order in p.get("_json") or []]
    if path.startswith("/margins/orders"):
        h._send(200, _envelope(rows))
        return
    basket = _mock("basket_margins.json")
    total = sum(row["total"] for row in rows)
    for part in ("initial", "final"):
        basket[part]["total"] = total
    basket["orders"] = rows
    h._send(200, _envelope(basket))


def position_book(state: KiteState) -> dict[str, list[dict[str, Any]]]:
    """``{"net": [...], "day": [...]}`` with Kite's ~30 fields per row: ``day`` holds only
    today's trades; ``net`` adds the positions carried from earlier days
    (``state.positions``, each row's ``quantity`` being what was carried)."""
    with state.lock:
        trades = list(state.trades)
        carried = [dict(r) for r in state.positions]
    day: dict[tuple[str, str, str], _Book] = {}
    for trade in trades:
        key = (trade["exchange"], trade["tradingsymbol"], trade["product"])
        book = day.setdefault(key, _Book(token=trade["instrument_token"]))
        book.add(trade["transaction_type"], int(trade["quantity"]), float(trade["average_price"]))
    net = {key: _Book(book.token, *book.totals()) for key, book in day.items()}
    for row in carried:
        key = (row["exchange"], row["tradingsymbol"], row.get("product", "NRML"))
        book = net.setdefault(key, _Book(token=int(row.get("instrument_token") or 0)))
        close = float(row.get("close_price") or row.get("average_price") or 0)
        book.carry(int(row["quantity"]), close)
    return {
        "net": [book.row(*key) for key, book in net.items()],
        "day": [book.row(*key) for key, book in day.items()],
    }


@dataclass
class _Book:
    """One position's buys and sells (``day_*``: today's part of them)."""

    token: int = 0
    buy_qty: int = 0
    buy_value: float = 0.0
    sell_qty: int = 0
    sell_value: float = 0.0
    overnight: int = 0
    close: float = 0.0
    last: float = 0.0
    day: list[float] = field(default_factory=lambda: [0, 0.0, 0, 0.0])

    def add(self, side: str, quantity: int, price: float) -> None:
        i = 0 if side == "BUY" else 2
        self.day[i] += quantity
        self.day[i + 1] += quantity * price
        self.last = price

    def totals(self) -> tuple[int, float, int, float, int, float, float, list[float]]:
        d = self.day
        return int(d[0]), d[1], int(d[2]), d[3], 0, 0.0, self.last, list(d)

    def carry(self, quantity: int, close: float) -> None:
        """A position from an earlier day: counted at its close in buys or sells."""
        self.overnight, self.close = quantity, close
        self.last = self.last or close
        if quantity > 0:
            self.buy_qty += quantity
            self.buy_value += quantity * close
        else:
            self.sell_qty -= quantity
            self.sell_value -= quantity * close

    def row(self, exchange: str, tradingsymbol: str, product: str) -> dict[str, Any]:
        buy_qty = self.buy_qty or int(self.day[0])
        buy_value = self.buy_value or self.day[1]
        sell_qty = self.sell_qty or int(self.day[2])
        sell_value = self.sell_value or self.day[3]
        quantity = buy_qty - sell_qty
        buy_price = buy_value / buy_qty if buy_qty else 0.0
        sell_price = sell_value / sell_qty if sell_qty else 0.0
        value = sell_value - buy_value
        pnl = value + quantity * self.last
        return {
            "tradingsymbol": tradingsymbol,
            "exchange": exchange,
            "instrument_token": self.token,
            "product": product,
            "quantity": quantity,
            "overnight_quantity": self.overnight,
            "multiplier": 1,
            "average_price": buy_price if quantity > 0 else sell_price if quantity < 0 else 0,
            "close_price": self.close,
            "last_price": self.last,
            "value": value,
            "pnl": pnl,
            "m2m": pnl,
            "unrealised": pnl,
            "realised": 0,
            "buy_quantity": buy_qty,
            "buy_price": buy_price,
            "buy_value": buy_value,
            "buy_m2m": buy_value,
            "sell_quantity": sell_qty,
            "sell_price": sell_price,
            "sell_value": sell_value,
            "sell_m2m": sell_value,
            "day_buy_quantity": int(self.day[0]),
            "day_buy_price": self.day[1] / self.day[0] if self.day[0] else 0.0,
            "day_buy_value": self.day[1],
            "day_sell_quantity": int(self.day[2]),
            "day_sell_price": self.day[3] / self.day[2] if self.day[2] else 0.0,
            "day_sell_value": self.day[3],
        }


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeKite) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake
        self.state = fake.state
        self.routes: dict[tuple[str, str], Callable[..., None]] = {
            ("POST", "/session/token"): _session_token,
            ("DELETE", "/session/token"): _session_token,
            ("GET", "/user/profile"): _profile,
            ("GET", "/instruments"): _instruments,
            ("GET", "/orders"): _order_by_id,
            ("GET", "/trades"): _trades,
            ("GET", "/portfolio/positions"): _positions,
            ("GET", "/user/margins"): _margins,
            ("GET", "/user/margins/equity"): _margins,
            ("POST", "/margins/orders"): _order_margins,
            ("POST", "/margins/basket"): _order_margins,
        }
        self.prefix_routes: dict[tuple[str, str], Callable[..., None]] = {
            ("GET", historical.PREFIX): historical.handle,  # before its parent, /instruments/
            ("GET", "/instruments/"): _instruments,
            ("GET", "/orders/"): _order_by_id,
            ("POST", "/orders/"): _order_by_id,
            ("PUT", "/orders/"): _order_by_id,
            ("DELETE", "/orders/"): _order_by_id,
        }


class FakeKite:
    """REST on ``api_root`` and the ticker on ``ticker_root``; both on 127.0.0.1."""

    def __init__(self, state: KiteState | None = None) -> None:
        self.state = state or KiteState()
        self.historical = historical.HistoricalState()
        self.quotes: dict[int, FakeQuote] = {}
        self.ws_connections: list[ServerConnection] = []
        self.ws_messages: list[dict[str, Any]] = []
        self.ws_connects = 0
        self.ws_rejected = 0
        self.subscriptions: dict[int, str] = {}  # token -> mode
        self.silent = False
        self._http = _HttpServer(self)
        self._http_thread = threading.Thread(
            target=self._http.serve_forever, daemon=True, name="fake-kite-http"
        )
        self._loop = asyncio.new_event_loop()
        self._ws_thread = threading.Thread(
            target=self._loop.run_forever, daemon=True, name="fake-kite-ws"
        )
        self._ws_server: Any = None
        self.ws_port = 0

    @property
    def api_root(self) -> str:
        return f"http://127.0.0.1:{self._http.server_address[1]}"

    @property
    def ticker_root(self) -> str:
        return f"ws://127.0.0.1:{self.ws_port}"

    def start(self) -> FakeKite:
        self._http_thread.start()
        self._ws_thread.start()
        fut = asyncio.run_coroutine_threadsafe(self._start_ws(), self._loop)
        fut.result(timeout=10)
        return self

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()
        if self._ws_server is not None:

            async def _close() -> None:
                self._ws_server.close()
                await self._ws_server.wait_closed()

            asyncio.run_coroutine_threadsafe(_close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._ws_thread.join(timeout=5)

    def __enter__(self) -> FakeKite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- websocket ---------------------------------------------------------------------
    async def _start_ws(self) -> None:
        self._ws_server = await serve(
            self._ws_handler,
            "127.0.0.1",
            0,
            process_request=self._check_token,
            ping_interval=None,
        )
        self.ws_port = self._ws_server.sockets[0].getsockname()[1]

    def _check_token(self, connection: ServerConnection, request: Request) -> Response | None:
        query = parse_qs(urlparse(request.path).query)
        api_key = (query.get("api_key") or [""])[0]
        token = (query.get("access_token") or [""])[0]
        with self.state.lock:
            ok = api_key == self.state.api_key and token in self.state.access_tokens
        if ok:
            return None
        self.ws_rejected += 1
        return connection.respond(403, "Forbidden\n")

    async def _ws_handler(self, ws: ServerConnection) -> None:
        self.ws_connects += 1
        self.ws_connections.append(ws)
        try:
            async for message in ws:
                if isinstance(message, bytes):
                    continue
                try:
                    msg = json.loads(message)
                except json.JSONDecodeError:
                    continue
                self.ws_messages.append(msg)
                action, value = msg.get("a"), msg.get("v")
                if action == "subscribe":
                    for token in value:
                        self.subscriptions.setdefault(int(token), "quote")
                elif action == "unsubscribe":
                    for token in value:
                        self.subscriptions.pop(int(token), None)
                elif action == "mode":
                    mode, tokens = value
                    for token in tokens:
                        self.subscriptions[int(token)] = mode
        except websockets.ConnectionClosed:
            pass
        finally:
            if ws in self.ws_connections:
                self.ws_connections.remove(ws)

    def _broadcast(self, payload: bytes | str) -> None:
        async def _send() -> None:
            for ws in list(self.ws_connections):
                try:
                    await ws.send(payload)
                except websockets.ConnectionClosed:
                    pass

        asyncio.run_coroutine_threadsafe(_send(), self._loop).result(timeout=5)

    def push_ticks(self, quotes: list[FakeQuote]) -> None:
        """Send one binary frame with a packet per subscribed instrument, in its mode."""
        if self.silent:
            return
        builders = {"ltp": ltp_packet, "quote": quote_packet, "full": full_packet}
        packets = []
        for quote in quotes:
            self.quotes[quote.token] = quote
            mode = self.subscriptions.get(quote.token)
            if mode:
                packets.append(builders[mode](quote))
        if packets:
            self._broadcast(frame(packets))

    def push_order_update(self, order: dict[str, Any]) -> None:
        """The order as the socket pushes it: the row plus ``user_id``, ``app_id``,
        ``unfilled_quantity`` and the SHA-256 ``checksum``, as in a postback."""
        data = self.update_payload(order)
        self._broadcast(json.dumps({"type": "order", "data": data}))

    def update_payload(self, order: dict[str, Any]) -> dict[str, Any]:
        """An order row with the fields Kite's pushed updates and postbacks add:
        checksum = SHA-256(order_id + order_timestamp + api secret)."""
        data = dict(order)
        digest = data["order_id"] + data["order_timestamp"] + self.state.api_secret
        data.update(
            user_id=self.state.user_id,
            app_id=1234,
            unfilled_quantity=data["pending_quantity"],
            status_message_raw=data.get("status_message_raw"),
            checksum=hashlib.sha256(digest.encode()).hexdigest(),
        )
        return data

    def drop_connections(self, code: int = 1000, reason: str = "server restart") -> None:
        async def _close() -> None:
            for ws in list(self.ws_connections):
                await ws.close(code, reason)

        asyncio.run_coroutine_threadsafe(_close(), self._loop).result(timeout=5)

    # -- broker behaviour -------------------------------------------------------------
    def fill_order(
        self,
        order_id: str,
        price: float | None = None,
        quantity: int | None = None,
        push: bool = True,
        trade_lag: int | None = 0,
        trade_id: str | None = None,
    ) -> dict[str, Any]:
        """Trade ``quantity`` (default: all pending) at ``price`` (its limit, else 100.0).

        An OPEN PENDING order is acknowledged first. The order stays OPEN until nothing
        is pending, then turns COMPLETE, a history row each time; each call is one trade
        with its own id (digits, as Kite's). ``push=False`` leaves the socket silent (as
        Kite is for states it does not push), so only the order book tells. ``trade_lag`` > 0 keeps
        the trade out of trade reads for that many reads (None: until
        ``release_trades``), while the order row already counts it, as Kite's trade
        book lags its order book.
        """
        with self.state.lock:
            self.state.acknowledge(order_id)
            order = self.state.orders[order_id]
            fill_price = price if price is not None else (order["price"] or 100.0)
            qty = order["pending_quantity"] if quantity is None else quantity
            filled = order["filled_quantity"] + qty
            average = (
                order["average_price"] * order["filled_quantity"] + fill_price * qty
            ) / filled
            order.update(
                status="COMPLETE" if filled >= order["quantity"] else "OPEN",
                filled_quantity=filled,
                pending_quantity=order["quantity"] - filled,
                average_price=average,
                exchange_timestamp=_now(),
                exchange_update_timestamp=_now(),
            )
            self.state.record(order)
            if trade_id is None:
                trade_id = self.state.next_trade_id()
            if trade_lag is None or trade_lag > 0:
                self.state.hidden_trades[trade_id] = trade_lag
            self.state.trades.append(
                {
                    "trade_id": trade_id,
                    "order_id": order_id,
                    "exchange_order_id": order["exchange_order_id"],
                    "tradingsymbol": order["tradingsymbol"],
                    "exchange": order["exchange"],
                    "instrument_token": order["instrument_token"],
                    "transaction_type": order["transaction_type"],
                    "product": order["product"],
                    "average_price": fill_price,
                    "quantity": qty,
                    "fill_timestamp": order["exchange_timestamp"],
                    "order_timestamp": order["order_timestamp"][-8:],
                    "exchange_timestamp": order["exchange_timestamp"],
                }
            )
            snapshot = dict(order)
        if push:
            self.push_order_update(snapshot)
        return snapshot

    def acknowledge(self, order_id: str) -> dict[str, Any]:
        """The exchange takes the order now (OPEN, or TRIGGER PENDING); returns its row."""
        with self.state.lock:
            self.state.acknowledge(order_id)
            return dict(self.state.orders[order_id])

    def trade_ids(self, order_id: str) -> list[str]:
        """The ids of the order's trades, in the order they happened."""
        with self.state.lock:
            return [t["trade_id"] for t in self.state.trades if t["order_id"] == order_id]

    def release_trades(self, order_id: str | None = None) -> None:
        """List the hidden trades (of one order, or all) from the next read on."""
        with self.state.lock:
            for trade in self.state.trades:
                if order_id is None or trade["order_id"] == order_id:
                    self.state.hidden_trades.pop(trade["trade_id"], None)

    def misfile_trade(self, listed_under: str, trade: dict[str, Any]) -> None:
        """Show ``trade`` (a row of another order) in ``listed_under``'s trade list too."""
        with self.state.lock:
            self.state.misfiled_trades.setdefault(listed_under, []).append(dict(trade))

    def set_status(self, order_id: str, status: str, push: bool = True) -> dict[str, Any]:
        """Move an order to ``status`` as Kite's OMS does (e.g. ``MODIFY PENDING``)."""
        with self.state.lock:
            self.state.walking.pop(order_id, None)  # the script takes over its status
            order = self.state.orders[order_id]
            order["exchange_update_timestamp"] = _now()
            self.state.record(order, status)
            snapshot = dict(order)
        if push:
            self.push_order_update(snapshot)
        return snapshot

    def postback(self, order_id: str, status: str = "UPDATE") -> dict[str, Any]:
        """The order as Kite's postback carries it (docs' sample fields; ``UPDATE`` on a
        modify or a partial fill), checksum = SHA-256(order_id + order_timestamp + secret)."""
        with self.state.lock:
            order = self.update_payload(self.state.orders[order_id])
        order["status"] = status
        order.pop("tags", None)
        return order
