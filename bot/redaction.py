"""The one list of secrets that no text leaving the process may show, and the one function
that removes them.

Registered once they are known (the bot token, the MusicAPI key, the database password, the
webhook secret). Log lines in both formats, MusicAPI's error texts that members read, job
failures from polls and webhooks, and owner alerts all pass through `redact`. It has no
dependencies, so every layer (the MusicAPI client included) can use it.
"""

from __future__ import annotations

REDACTED = "[redacted]"
# Shorter values are not secrets worth the risk of mangling every line they occur in.
MIN_SECRET_LEN = 6

_secrets: set[str] = set()


def add_secret(value: str | None) -> None:
    """Never show `value` in a log line, a member's message or an alert from now on."""
    if value and len(value) >= MIN_SECRET_LEN:
        _secrets.add(value)


def redact(text: str) -> str:
    # Longest first, so a secret that contains another is replaced whole.
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text
