"""Log lines as text or JSON (LOG_FORMAT), with ids from context and every secret redacted.

JSON: one object per line with `time` (UTC, ISO 8601), `level`, `logger`, `message`, the
`job_id`, `guild_id` and `task_id` where known, `incident` for unexpected errors, and the
traceback as `exc_info` inside the same object.

Ids come from two places: `log_context(job_id=..., guild_id=...)`, which sets them for
everything logged in the current task (asyncio copies context into tasks it creates), and
`extra={"job_id": ...}` on one call. Secrets registered with `add_secret` (the bot token, the
MusicAPI key, the webhook secret) are replaced by `[redacted]` in every line, in both formats,
tracebacks included.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

CONTEXT_FIELDS = ("job_id", "guild_id", "task_id", "incident")
REDACTED = "[redacted]"
# Shorter values are not secrets worth the risk of mangling every line they occur in.
MIN_SECRET_LEN = 6

_context: contextvars.ContextVar[dict[str, object] | None] = contextvars.ContextVar(
    "musicbot_log_context", default=None
)
_secrets: set[str] = set()


def add_secret(value: str | None) -> None:
    """Never print `value` in a log line from now on."""
    if value and len(value) >= MIN_SECRET_LEN:
        _secrets.add(value)


def redact(text: str) -> str:
    # Longest first, so a secret that contains another is replaced whole.
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


@contextlib.contextmanager
def log_context(**ids: object) -> Iterator[None]:
    """Attach ids (job_id, guild_id, task_id) to every line logged inside the block."""
    merged = {**(_context.get() or {}), **{k: v for k, v in ids.items() if v is not None}}
    token = _context.set(merged)
    try:
        yield
    finally:
        _context.reset(token)


def bind(**ids: object) -> None:
    """Attach ids for the rest of the current task (where a `with` block does not fit)."""
    _context.set({**(_context.get() or {}), **{k: v for k, v in ids.items() if v is not None}})


def context_ids(record: logging.LogRecord) -> dict[str, object]:
    found = dict(_context.get() or {})
    for name in CONTEXT_FIELDS:
        value = getattr(record, name, None)
        if value is not None:
            found[name] = value
    return {name: found[name] for name in CONTEXT_FIELDS if name in found}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        entry.update(context_ids(record))
        if record.exc_info:
            entry["exc_info"] = redact(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exc_info"] = redact(record.exc_text)
        if record.stack_info:
            entry["stack_info"] = redact(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """discord.py's usual layout, plus the ids in brackets, redacted."""

    def __init__(self) -> None:
        super().__init__(
            "[{asctime}] [{levelname:<8}] {name}: {message}", "%Y-%m-%d %H:%M:%S", style="{"
        )

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        ids = context_ids(record)
        if ids:
            head, sep, rest = text.partition("\n")
            tags = " ".join(f"{k}={v}" for k, v in ids.items())
            text = f"{head} [{tags}]{sep}{rest}"
        return redact(text)


def setup_logging(level: str, fmt: str, secrets: tuple[str | None, ...] = ()) -> None:
    """Replace the root logger's handlers with one stderr handler in the chosen format."""
    for secret in secrets:
        add_secret(secret)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(getattr(logging, level))
    logging.captureWarnings(True)  # a warning printed raw would break the one-object lines
