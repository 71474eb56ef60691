"""SIGTERM and SIGHUP stop the console's engine gracefully, then exit with 128 + signal.

Without this an SSH drop (SIGHUP) would kill the process before the final snapshot is
stored. Mixed into the console's App; kept apart so ``app.py`` stays the console itself.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading

from textual.app import App

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)  # a kill, and an SSH connection dropped

log = logging.getLogger("alphapanda.console")


class StopSignals(App[int]):
    """``install_stop_signals`` on mount; the handler stops the engine, then exits."""

    _stop_signals: list[int]
    _stopping_on_signal: bool

    async def stop_engine(self) -> None:
        """Stop the engine gracefully (the console's own, in ``AlphaPandaApp``)."""
        raise NotImplementedError

    def install_stop_signals(self) -> None:
        """SIGTERM and SIGHUP stop the engine gracefully, then exit with 128 + signal.

        Without this an SSH drop (SIGHUP) would kill the process before the final
        snapshot is stored. Only the main thread of a loop may own signal handlers.
        """
        if threading.current_thread() is not threading.main_thread():
            return
        loop = asyncio.get_running_loop()
        for signum in STOP_SIGNALS:
            try:
                loop.add_signal_handler(signum, self.stop_on_signal, signum)
            except (NotImplementedError, RuntimeError, ValueError):  # not on this platform
                continue
            self._stop_signals.append(signum)

    def _remove_stop_signals(self) -> None:
        loop = asyncio.get_running_loop()
        while self._stop_signals:
            loop.remove_signal_handler(self._stop_signals.pop())

    def stop_on_signal(self, signum: int) -> None:
        """The signal handler: schedule the graceful stop (a second signal is ignored)."""
        if self._stopping_on_signal:
            return
        self._stopping_on_signal = True
        log.warning("console stopping on %s", signal.Signals(signum).name)
        if signum == signal.SIGHUP:
            self._discard_terminal_output()
        self.run_worker(self._stop_for_signal(signum), name="Stop on signal", group="signal")

    def _discard_terminal_output(self) -> None:
        """After a hangup the terminal is gone: drop output instead of blocking on it.

        Textual's writer thread dies on the first EIO, and a later write (or its stop)
        would then wait forever on its full queue, before the engine could stop.
        """
        writer = getattr(self._driver, "_writer_thread", None)
        if writer is not None:
            writer.write = lambda text: None
            writer.stop = lambda: None

    async def _stop_for_signal(self, signum: int) -> None:
        try:
            await self.stop_engine()
        finally:
            self.exit(128 + signum, return_code=128 + signum)
