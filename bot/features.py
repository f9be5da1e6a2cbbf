"""Owner switches for families the bot offers only on request.

Riffusion is deprecated upstream and Studio is unavailable there (docs/musicapi/protocol.md §1), so
their commands refuse until the bot owner turns them on with `/musicbot feature`. A switch is global
(the owner's key pays for every server), stored in the database (it survives restarts and is
shared by every process), and off by default.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.errors import UserFacingError
from bot.store import features as feature_sql
from bot.store.database import Database
from bot.store.features import FeatureChange

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Feature:
    name: str
    label: str
    upstream: str  # why it is off by default, in the member's words

    @property
    def title(self) -> str:
        return f"{self.label} ({self.upstream})"


FEATURES: dict[str, Feature] = {
    feature.name: feature
    for feature in (
        Feature("riffusion", "Riffusion", "deprecated upstream"),
        Feature("studio", "Studio", "unavailable upstream"),
    )
}


class FeatureOff(UserFacingError):
    """The command's family is switched off; nothing was reserved or sent."""


def feature(name: str) -> Feature:
    try:
        return FEATURES[name]
    except KeyError:
        raise ValueError(f"unknown feature {name!r}; known: {', '.join(FEATURES)}") from None


class Features:
    """Reads and changes the switches. Holds no state of its own, so every cog may make one."""

    def __init__(self, db: Database, *, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock

    async def is_on(self, name: str) -> bool:
        feature(name)
        async with self.db.read() as conn:
            return await feature_sql.is_enabled(conn, name)

    async def require(self, name: str) -> None:
        """Raise `FeatureOff` (shown to the member as is) unless the owner turned it on."""
        if not await self.is_on(name):
            raise FeatureOff(f"The bot owner has not turned on {feature(name).title}.")

    async def set(self, name: str, enabled: bool, owner_id: int) -> bool:
        """Switch a feature; returns whether its state changed. Always logged and recorded."""
        feature(name)
        async with self.db.transaction() as conn:
            changed = await feature_sql.set_enabled(conn, name, enabled, owner_id, self.clock())
        log.info(
            "feature %s turned %s by owner %s%s",
            name,
            "on" if enabled else "off",
            owner_id,
            "" if changed else " (no change)",
        )
        return changed

    async def states(self) -> dict[str, bool]:
        """Every known feature, on or off."""
        async with self.db.read() as conn:
            stored = await feature_sql.states(conn)
        return {name: stored.get(name, False) for name in FEATURES}

    async def history(self, name: str) -> list[FeatureChange]:
        feature(name)
        async with self.db.read() as conn:
            return await feature_sql.history(conn, name)
