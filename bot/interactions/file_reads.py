"""What a command does before it fetches a member's file: the standing checks, then a per-member
rate limit.

Fetching and parsing a file costs the bot work (range requests, a parse in a child process)
before anything is charged, so it is refused up front to a blocked member, outside the
channel allow-list and past the concurrency caps (the same rules the reservation runs, from
`Quota.check_standing`), and to a member who has sent more than `FILE_READS_PER_MINUTE` files in
the last minute. The limit is per process; a server's commands always reach the same process.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import discord

from bot.errors import QuotaRefused
from bot.interactions.jobs import origin_of
from bot.observability import metrics

if TYPE_CHECKING:
    from bot.app import MusicBot

FILE_READS_PER_MINUTE = 3  # uploads, voice recordings and lyrics files, per member
WINDOW_S = 60.0


class FileReadLimit:
    """At most `per_window` file reads per member in any `window_s` seconds."""

    def __init__(
        self,
        per_window: int = FILE_READS_PER_MINUTE,
        window_s: float = WINDOW_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.per_window, self.window_s, self.clock = per_window, window_s, clock
        self._reads: dict[tuple[int, int], deque[float]] = {}

    def take(self, guild_id: int, user_id: int) -> None:
        """Count one read, or raise QuotaRefused saying when the next one is allowed."""
        now = self.clock()
        for key in [k for k, times in self._reads.items() if times[-1] <= now - self.window_s]:
            del self._reads[key]  # forget members idle for a whole window
        times = self._reads.setdefault((guild_id, user_id), deque())
        while times and times[0] <= now - self.window_s:
            times.popleft()
        if len(times) >= self.per_window:
            frees_at = datetime.fromtimestamp(times[0] + self.window_s, UTC)
            stamp = int(frees_at.timestamp()) + 1
            raise QuotaRefused(
                "files per minute",
                f"You have sent {len(times)} files in the last minute, the most a member may "
                f"({self.per_window} a minute). Try again <t:{stamp}:R>.",
                frees_at,
            )
        times.append(now)


async def before_reading_file(bot: MusicBot, interaction: discord.Interaction) -> None:
    """The standing checks and the rate limit, before a member's file is fetched."""
    origin = origin_of(interaction)
    await bot.quota.check_standing(
        origin.guild_id, origin.user_id, origin.channel_id, origin.role_ids
    )
    try:
        bot.file_reads.take(origin.guild_id, origin.user_id)
    except QuotaRefused as refusal:
        metrics.quota_refused(refusal.limit)
        raise
