"""``alphapanda logout``: invalidate today's access token at Zerodha and forget it here."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

NAME = "logout"
HELP = "invalidate the Zerodha access token and delete it from this machine"


def configure(parser: argparse.ArgumentParser) -> None:
    return None


def run(args: argparse.Namespace, settings: Any) -> int:
    from alphapanda_tui.venues.zerodha import build_session

    session = build_session(settings)
    if session.info is None:
        settings.token_file.unlink(missing_ok=True)
        print("Not logged in to Zerodha (no valid token on this machine).")
        return 0
    user = session.info.user_id
    asyncio.run(session.logout())
    print(f"Logged out {user}: token invalidated and removed from {settings.token_file}")
    return 0
