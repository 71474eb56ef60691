"""Who is at the keyboard: stamped on control commands and the audit trail."""

from __future__ import annotations

import getpass
import os
import socket


def operator_identity() -> str:
    """``user@host`` of the person running this process.

    ``getpass.getuser`` fails in containers without a passwd entry; the uid still
    identifies the operator there.
    """
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = f"uid{os.getuid()}" if hasattr(os, "getuid") else "unknown"
    host = socket.gethostname() or "localhost"
    return f"{user}@{host}"
