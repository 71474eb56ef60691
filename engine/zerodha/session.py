"""The daily Kite session: login URL → request token → access token, expiring at 06:00 IST.

The access token is the key to real money. It is kept only by the token store (owner-only
file), registered with the log redaction filter before anything can log it, and never
shown. Any ``TokenException`` or the 06:00 Asia/Kolkata rollover ends the session.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, Protocol
from urllib.parse import parse_qs, urlencode, urlparse

from engine.clock import IST, Clock, SystemClock, datetime_to_ns, ns_to_datetime
from engine.logs.audit import log_operator_action

log = logging.getLogger("alphapanda.zerodha")
EXPIRY_TIME = time(6, 0)
_TOKEN_RE = re.compile(r"^[A-Za-z0-9]{6,64}$")


class LoginError(ValueError):
    """A login step failed; the message tells the operator what to do next."""


@dataclass(frozen=True)
class SessionInfo:
    """Who is logged in and until when. ``access_token`` never appears in repr."""

    user_id: str
    user_name: str
    login_ts: int  # UTC ns
    expires_ts: int  # UTC ns: next 06:00 Asia/Kolkata after login
    access_token: str = field(repr=False)

    def is_valid(self, now_ns: int) -> bool:
        return now_ns < self.expires_ts

    def seconds_left(self, now_ns: int) -> float:
        return max(0.0, (self.expires_ts - now_ns) / 1e9)


class TokenStore(Protocol):
    """Keeps the session between runs (storage implements it with an owner-only file)."""

    def load(self) -> SessionInfo | None: ...

    def save(self, info: SessionInfo) -> None: ...

    def clear(self) -> None: ...


def next_expiry(login_ts_ns: int) -> int:
    """The next 06:00 Asia/Kolkata strictly after ``login_ts_ns`` (the regulatory expiry)."""
    local = ns_to_datetime(login_ts_ns, IST)
    expiry = datetime.combine(local.date(), EXPIRY_TIME, tzinfo=IST)
    if local >= expiry:
        expiry += timedelta(days=1)
    return datetime_to_ns(expiry)


def parse_request_token(text: str) -> str:
    """Accept the redirect URL Zerodha sends the browser to, or the bare ``request_token``."""
    text = text.strip()
    if not text:
        raise LoginError("paste the redirect URL or the request_token")
    if "://" in text or text.startswith("/") or "request_token=" in text:
        query = parse_qs(urlparse(text).query or text.split("?", 1)[-1])
        status = (query.get("status") or ["success"])[0]
        if status != "success":
            raise LoginError(f"Zerodha reported login status {status!r}: log in again")
        tokens = query.get("request_token")
        if not tokens:
            raise LoginError("that URL has no request_token parameter: copy the whole address")
        text = tokens[0]
    if not _TOKEN_RE.match(text):
        raise LoginError("that does not look like a request_token (letters and digits only)")
    return text


class KiteFactory(Protocol):
    def __call__(self, api_key: str, *, root: str, timeout: float) -> Any: ...


def _default_factory(api_key: str, *, root: str, timeout: float) -> Any:
    from kiteconnect import KiteConnect

    return KiteConnect(api_key=api_key, root=root, timeout=timeout)


class ZerodhaSession:
    """Owns the login flow and hands out authenticated ``KiteConnect`` clients."""

    def __init__(
        self,
        *,
        api_key: str,
        api_secret: str,
        api_root: str,
        login_url: str,
        token_store: TokenStore,
        clock: Clock | None = None,
        timeout: float = 7.0,
        register_secret: Callable[[str], None] | None = None,
        kite_factory: KiteFactory = _default_factory,
    ) -> None:
        if not api_key or not api_secret:
            raise LoginError(
                "set ALPHAPANDA_ZERODHA__API_KEY and ALPHAPANDA_ZERODHA__API_SECRET to log in"
            )
        self.api_key = api_key
        self._api_secret = api_secret
        self.api_root = api_root
        self._login_url = login_url
        self._store = token_store
        self._clock = clock or SystemClock()
        self._timeout = timeout
        self._register_secret = register_secret or (lambda _value: None)
        self._factory = kite_factory
        self._register_secret(api_secret)
        self._info: SessionInfo | None = None
        self._expired_listeners: list[Callable[[str], None]] = []
        stored = token_store.load()
        if stored is not None:
            self._register_secret(stored.access_token)
            if stored.is_valid(self._clock.now_ns()):
                self._info = stored

    # -- state -------------------------------------------------------------------------
    @property
    def info(self) -> SessionInfo | None:
        """The live session, or None when logged out or past the 06:00 IST expiry."""
        if self._info is not None and not self._info.is_valid(self._clock.now_ns()):
            self._expire("the daily token expired at 06:00 IST")
        return self._info

    def on_expired(self, listener: Callable[[str], None]) -> None:
        """``listener(reason)`` runs when the session ends (expiry, TokenException, logout)."""
        self._expired_listeners.append(listener)

    def login_url(self) -> str:
        return f"{self._login_url}?{urlencode({'v': 3, 'api_key': self.api_key})}"

    # -- login / logout ----------------------------------------------------------------
    async def exchange(self, pasted: str) -> SessionInfo:
        """Trade a request token (or the redirect URL holding it) for today's access token."""
        request_token = parse_request_token(pasted)
        self._register_secret(request_token)
        kite = self._factory(self.api_key, root=self.api_root, timeout=self._timeout)
        try:
            data = await asyncio.to_thread(kite.generate_session, request_token, self._api_secret)
        except Exception as exc:
            raise LoginError(_explain_login_failure(exc)) from None
        access_token = data["access_token"]
        self._register_secret(access_token)
        now = self._clock.now_ns()
        info = SessionInfo(
            user_id=str(data.get("user_id", "")),
            user_name=str(data.get("user_name") or data.get("user_id", "")),
            login_ts=now,
            expires_ts=next_expiry(now),
            access_token=access_token,
        )
        self._store.save(info)
        self._info = info
        log.info("zerodha login", extra={"user_id": info.user_id})
        log_operator_action("zerodha.login", info.user_id, {"broker": "zerodha"}, ts_ns=now)
        return info

    async def logout(self) -> None:
        """Invalidate the token at Zerodha (best effort) and forget it here."""
        info = self._info
        if info is not None:
            kite = self.client()
            try:
                await asyncio.to_thread(kite.invalidate_access_token, info.access_token)
            except Exception as exc:  # already dead is fine: we forget it either way
                log.warning("logout: token invalidation failed", extra={"error": str(exc)})
            log_operator_action("zerodha.logout", info.user_id, {"broker": "zerodha"})
        self._expire("logged out")

    def client(self) -> Any:
        """An authenticated client whose 403 TokenException ends the session."""
        info = self.info
        if info is None:
            raise LoginError("not logged in to Zerodha: run `alphapanda login`")
        kite = self._factory(self.api_key, root=self.api_root, timeout=self._timeout)
        kite.set_access_token(info.access_token)
        kite.set_session_expiry_hook(
            lambda: self._expire("Zerodha rejected the token (logged in elsewhere or logged out)")
        )
        return kite

    def expire(self, reason: str) -> None:
        """End the session now (the ticker's 403 says the token is dead); listeners run."""
        self._expire(reason)

    def _expire(self, reason: str) -> None:
        if self._info is None:
            return
        self._info = None
        self._store.clear()
        log.warning("zerodha session ended", extra={"reason": reason})
        for listener in list(self._expired_listeners):
            try:
                listener(reason)
            except Exception:
                log.exception("session-expiry listener failed")


def _explain_login_failure(exc: Exception) -> str:
    name = type(exc).__name__
    message = str(exc)
    if name == "TokenException":
        return (
            f"Zerodha refused the request token ({message}). Tokens work once and only for a "
            "few minutes: open the login URL again and paste the new redirect URL."
        )
    if name in {"NetworkException", "ConnectionError", "ReadTimeout", "ConnectTimeout"}:
        return f"could not reach Zerodha ({message}); check the network and try again"
    return f"login failed: {name}: {message}"
