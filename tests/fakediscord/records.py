"""Records the fake keeps about what the bot did, and small value wrappers for options."""

# The public API takes explicit ``timeout=`` arguments (bounded waits by design).
# ruff: noqa: ASYNC109

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._util import FLAG_LOADING

if TYPE_CHECKING:
    from .server import FakeDiscord


@dataclass(frozen=True)
class FakeUser:
    """An option value for a USER (6) or MENTIONABLE (9) option."""

    id: int


@dataclass(frozen=True)
class FakeRole:
    """An option value for a ROLE (8) or MENTIONABLE (9) option."""

    id: int


@dataclass(frozen=True)
class FakeChannel:
    """An option value for a CHANNEL (7) option."""

    id: int


@dataclass(eq=False)
class FakeInteraction:
    """One interaction the fake dispatched, and everything the bot did with its token.

    ``original`` and ``followups`` are live message records from ``FakeDiscord.messages``
    (edits show up in place).
    """

    id: int
    token: str
    type: int
    guild_id: int | None
    channel_id: int
    user_id: int
    payload: dict[str, Any]  # the INTERACTION_CREATE ``d`` exactly as dispatched
    message_id: int | None = None  # the message a component/modal-from-component sat on
    response: dict[str, Any] | None = None  # callback payload {"type": ..., "data": ...}
    modal: dict[str, Any] | None = None  # data of a MODAL (9) response
    autocomplete_choices: list[dict[str, Any]] | None = None
    followups: list[dict[str, Any]] = field(default_factory=list)
    expired: bool = False
    created_monotonic: float = field(default_factory=time.monotonic)
    responded_after: float | None = None  # seconds from dispatch to the callback
    _fake: FakeDiscord | None = field(default=None, repr=False)
    _original_id: int | None = field(default=None, repr=False)
    _awaiting_fill: bool = field(default=False, repr=False)

    @property
    def response_type(self) -> int | None:
        return None if self.response is None else int(self.response["type"])

    @property
    def original(self) -> dict[str, Any] | None:
        """Current state of the ``@original`` message (``None`` before one exists)."""
        if self._original_id is None or self._fake is None:
            return None
        return self._fake.messages.get(self._original_id)

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The original (if any) followed by the followups."""
        original = self.original
        return ([original] if original is not None else []) + list(self.followups)

    @property
    def deferred(self) -> bool:
        return self.response_type in (5, 6)

    def _require_fake(self) -> FakeDiscord:
        assert self._fake is not None, "interaction record is not attached to a FakeDiscord"
        return self._fake

    async def wait_response(self, timeout: float = 5) -> dict[str, Any]:
        """Wait until the bot answered the callback; returns ``{"type": ..., "data": ...}``."""
        fake = self._require_fake()
        return await fake._wait_until(
            lambda: self.response,
            timeout,
            f"a response to interaction {self.id} ({self.describe()})",
        )

    async def wait_original(
        self,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
        timeout: float = 5,
    ) -> dict[str, Any]:
        """Wait for the @original message to exist, not be "thinking", and match ``predicate``."""
        fake = self._require_fake()

        def check() -> dict[str, Any] | None:
            message = self.original
            if message is None or message["deleted"]:
                return None
            if predicate is None:
                return None if message["flags"] & FLAG_LOADING else message
            return message if fake._safe(predicate, message) else None

        return await fake._wait_until(check, timeout, f"the original response of {self.describe()}")

    async def wait_followups(self, count: int = 1, timeout: float = 5) -> list[dict[str, Any]]:
        """Wait until at least ``count`` followups (beyond a filled deferral) were created."""
        fake = self._require_fake()
        return await fake._wait_until(
            lambda: list(self.followups) if len(self.followups) >= count else None,
            timeout,
            f"{count} followup(s) of {self.describe()}",
        )

    def describe(self) -> str:
        kind = {2: "slash", 3: "component", 4: "autocomplete", 5: "modal submit"}.get(
            self.type, "?"
        )
        data = self.payload.get("data") or {}
        name = data.get("name") or data.get("custom_id") or ""
        return f"{kind} {name!r} id={self.id}"
