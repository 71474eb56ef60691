"""``PrivateRotatingFileHandler``: log files only their owner can read.

Logs name orders, accounts and strategies. Standard library only, so the lean kill path
(which must not load the engine's payloads or asyncio) writes its audit line through
the same handler as the engine's logging.
"""

from __future__ import annotations

import os
from io import TextIOWrapper
from logging.handlers import RotatingFileHandler


class PrivateRotatingFileHandler(RotatingFileHandler):
    """Rotating file created owner-only.

    Opened with mode 0600 (never briefly world-readable under the umask), and an older,
    looser file is tightened; a rollover opens its new file through here too.
    """

    def _open(self) -> TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.fchmod(fd, 0o600)
            return open(fd, "a", encoding=self.encoding, errors=self.errors)
        except BaseException:
            os.close(fd)
            raise
