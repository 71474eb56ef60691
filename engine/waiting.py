"""Wait for an ``asyncio.Event`` at most so long: the sleep every stoppable loop takes.

Services sleep between rounds, retries and restarts, and must wake at once when stopped
or nudged; written once here so each loop only says what the outcome means to it.
"""

from __future__ import annotations

import asyncio


async def set_within(event: asyncio.Event, seconds: float) -> bool:
    """True when ``event`` is set (or already was) within ``seconds``; False on time-out."""
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        return False
    return True
