"""Log lines as text or JSON (LOG_FORMAT), with ids from context and every secret redacted.

JSON: one object per line with `time` (UTC, ISO 8601), `level`, `logger`, `message`, the
`job_id`, `guild_id` and `task_id` where known, `incident` for unexpected errors, and the
traceback as `exc_info` inside the same object.

Ids come from two places: `log_context(job_id=..., guild_id=...)`, which sets them for
everything logged in the current task (asyncio copies context into tasks it creates), and
`extra={"job_id": ...}` on one call. Secrets registered with `add_secret` (the bot token, the
MusicAPI key, the webhook secret; the one list is `bot.redaction`) are replaced by `[redacted]`
in every line, in both formats, tracebacks included.
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

from bot.redaction import REDACTED as REDACTED
from bot.redaction import add_secret as add_secret
from bot.redaction import redact as redact

CONTEXT_FIELDS = ("job_id", "guild_id", "task_id", "incident")

_context: contextvars.ContextVar[dict[str, object] | None] = contextvars.ContextVar(
    "musicbot_log_context", default=None
)


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
        # json.dumps escapes C0 controls but not DEL, C1 (NEL) or U+2028/U+2029, which some
        # readers take for line breaks; they can only occur inside strings, where \uXXXX is valid.
        return json.dumps(entry, ensure_ascii=False, default=str).translate(_JSON_CONTROLS)


# C0 controls, DEL and C1 controls (NEL among them), and the Unicode line and paragraph
# separators: any of them in a text line could end it early or repaint the terminal.
_CONTROLS: dict[int, str] = {
    code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F, *range(0x80, 0xA0))
}
_CONTROLS.update({0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t", 0x2028: "\\u2028", 0x2029: "\\u2029"})


_JSON_CONTROLS = {code: f"\\u{code:04x}" for code in (0x7F, *range(0x80, 0xA0), 0x2028, 0x2029)}


def escape_controls(text: str) -> str:
    """`text` on one line: newlines, CR, ANSI escapes and every other control character shown
    as escapes, so text from a member or MusicAPI can't forge a log line."""
    return text.translate(_CONTROLS)


class TextFormatter(logging.Formatter):
    """discord.py's usual layout, plus the ids in brackets, redacted.

    A record's first line is the only one that starts at the left margin: its message is kept
    on that line (control characters escaped), and a traceback below it is indented, so no
    text inside a record can pass for another record."""

    def __init__(self) -> None:
        super().__init__(
            "[{asctime}] [{levelname:<8}] {name}: {message}", "%Y-%m-%d %H:%M:%S", style="{"
        )

    def formatMessage(self, record: logging.LogRecord) -> str:
        message = record.message
        record.message = escape_controls(message)
        try:
            return super().formatMessage(record)
        finally:
            record.message = message

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        head, sep, rest = text.partition("\n")
        ids = context_ids(record)
        if ids:
            tags = " ".join(f"{k}={escape_controls(str(v))}" for k, v in ids.items())
            head = f"{head} [{tags}]"
        if rest:
            rest = "\n".join(f"  {escape_controls(line)}" for line in rest.split("\n"))
        return redact(f"{head}{sep}{rest}")


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
