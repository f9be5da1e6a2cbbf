"""Event-loop lag: how late a timer fires. A blocked or overloaded loop delays every
command acknowledgement, poll and heartbeat alike, so this is the first number to look at
when the bot "feels slow"."""

from __future__ import annotations

import asyncio

from bot.observability import metrics

SAMPLE_EVERY_S = 0.5


async def watch_loop_lag(every_s: float = SAMPLE_EVERY_S) -> None:
    """Run forever (cancel to stop), recording each sample in the lag histogram."""
    loop = asyncio.get_running_loop()
    while True:
        started = loop.time()
        await asyncio.sleep(every_s)
        metrics.EVENT_LOOP_LAG.observe(max(0.0, loop.time() - started - every_s))
