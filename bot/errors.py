"""Errors whose text is written for the member who ran the command.

The command tree's error handler shows `str(error)` of these as an ephemeral reply; anything
else is logged and answered with a generic apology.
"""

from __future__ import annotations

from datetime import datetime

from discord import app_commands


class UserFacingError(Exception):
    """A refusal or failure to explain to the member in plain words."""


class InputError(UserFacingError):
    """An option failed validation; nothing was sent upstream and nothing was charged."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"`{field}`: {problem}")
        self.field = field
        self.problem = problem


class QuotaRefused(UserFacingError):
    """A limit would be exceeded; says which limit and when it frees up."""

    def __init__(self, limit: str, message: str, frees_at: datetime | None = None) -> None:
        super().__init__(message)
        self.limit = limit
        self.frees_at = frees_at


class NotAllowed(UserFacingError, app_commands.CheckFailure):
    """The member lacks the permission a command needs. A CheckFailure too, so that raised
    from a command's check it reaches the tree's error handler."""
