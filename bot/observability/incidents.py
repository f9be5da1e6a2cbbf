"""Unexpected errors: one log line with a short id, the same id for the member and the owner.

The interaction error path calls `unexpected_error` for anything that is not a refusal it
knows how to explain. The member's reply quotes the id, the owner's alert quotes the id, and
`grep <id>` in the logs finds the traceback.
"""

from __future__ import annotations

import logging
import secrets

from bot.observability import alerts

log = logging.getLogger("bot.errors")


def new_incident_id() -> str:
    """Eight hex characters: short enough to read out, unique enough for a bot's logs."""
    return secrets.token_hex(4)


def unexpected_error(error: BaseException, *, where: str) -> str:
    """Log `error` with its traceback under a new id, alert the owner; returns the id."""
    incident = new_incident_id()
    log.error(
        "unexpected error %s in %s: %s",
        incident,
        where,
        type(error).__name__,
        exc_info=error,
        extra={"incident": incident},
    )
    alerts.notify(
        alerts.AlertKind.UNEXPECTED_ERROR,
        f"`{type(error).__name__}` in {where}. Look for `{incident}` in the logs.",
    )
    return incident
