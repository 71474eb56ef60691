"""One Twisted reactor thread per process, shared by every KiteTicker.

Twisted's reactor cannot be restarted in a process, and ``KiteTicker.connect`` is not
thread-safe once it runs. So the reactor starts once, in a daemon thread, and every
call into a ticker goes through ``call_in_reactor`` (``reactor.callFromThread``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

_lock = threading.Lock()
_thread: threading.Thread | None = None


def ensure_reactor(timeout: float = 5.0) -> None:
    """Start the reactor thread if it is not running yet; wait until it runs."""
    global _thread
    from twisted.internet import reactor

    with _lock:
        if _thread is None:
            _thread = threading.Thread(
                target=reactor.run,  # type: ignore[misc]  # zope interface methods lack self
                kwargs={"installSignalHandlers": False},
                daemon=True,
                name="kite-reactor",
            )
            _thread.start()
    deadline = time.monotonic() + timeout
    while not reactor.running:
        if time.monotonic() > deadline:
            raise RuntimeError("the Twisted reactor did not start")
        time.sleep(0.01)


def call_in_reactor(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    from twisted.internet import reactor

    reactor.callFromThread(fn, *args, **kwargs)
