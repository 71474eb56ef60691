"""``alphapanda login``: today's Zerodha session from the login URL and the pasted redirect.

Kite allows no programmatic login (TOTP), so the trader signs in in any browser and
pastes the redirect URL (or just its ``request_token``) here. The access token goes to
the owner-only token file; it, the request token and the API secret are registered
with the log redaction filter before anything could log them.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from alphapanda_tui.errors import ConfigError, UsageError

NAME = "login"
HELP = "log in to Zerodha for today: open the login URL, paste the redirect URL"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--request-token",
        metavar="TOKEN_OR_REDIRECT_URL",
        help="the redirect URL (or its request_token); read from stdin when not given",
    )


def run(args: argparse.Namespace, settings: Any) -> int:
    from alphapanda_tui.venues.zerodha import build_session
    from engine.clock import SystemClock
    from engine.zerodha.session import LoginError

    settings.ensure_home()
    _set_aside_bad_token_file(settings.token_file)
    session = build_session(settings)
    pasted = args.request_token
    if pasted is None:
        _show_login_url(session.login_url())
        pasted = _catch_or_read_paste(settings)
    try:
        info = asyncio.run(session.exchange(pasted))
    except LoginError as exc:
        raise UsageError(str(exc)) from None
    left = int(info.seconds_left(SystemClock().now_ns()))
    print(
        f"Logged in as {info.user_name} ({info.user_id}); token valid until 06:00 IST "
        f"(in {left // 3600}h{left % 3600 // 60:02d}m)"
    )
    return 0


def _set_aside_bad_token_file(path: Any) -> None:
    """A login replaces a corrupt or shared token file; say so rather than refuse."""
    from storage.token_store import FileTokenStore, TokenFileError

    try:
        FileTokenStore(path).load()
    except TokenFileError as exc:
        print(f"alphapanda: warning: {exc} (this login replaces it)", file=sys.stderr)
        path.unlink(missing_ok=True)


def _show_login_url(url: str) -> None:
    print("Open this URL, sign in to Zerodha, then paste the address you are sent to:")
    print(f"  {url}")
    try:
        import qrcode  # optional: the URL alone is enough
    except ImportError:
        return
    code = qrcode.QRCode(border=1)
    code.add_data(url)
    code.print_ascii(invert=True)


def _catch_or_read_paste(settings: Any) -> str:
    """The redirect caught on the loopback callback port when one is configured, else pasted."""
    from engine.zerodha.redirect_catcher import LOOPBACK, callback_port_of, catch_redirect

    zerodha = settings.zerodha
    port = callback_port_of(zerodha.callback_port, zerodha.redirect_url)
    if port is None:
        return _read_paste()
    print(f"Waiting for Zerodha's redirect on http://{LOOPBACK}:{port}/ ...", flush=True)
    try:
        return asyncio.run(catch_redirect(port))
    except TimeoutError:
        raise UsageError(
            "no redirect arrived in 5 minutes: run `alphapanda login` again, or pass "
            "--request-token with the address you were sent to"
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"invalid setting ALPHAPANDA_ZERODHA__CALLBACK_PORT: cannot listen on "
            f"{LOOPBACK}:{port}: {exc.strerror or exc}"
        ) from None


def _read_paste() -> str:
    if sys.stdin.isatty():
        print("Redirect URL or request_token: ", end="", flush=True)
    line = sys.stdin.readline()
    if not line.strip():
        raise UsageError("nothing pasted: paste the redirect URL or the request_token")
    return line
