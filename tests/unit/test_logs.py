"""Log lines: JSON objects with ids from context, tracebacks inside, secrets never printed."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.observability import logs

TOKEN = "MTIz.bot-token.secret-part"
KEY = "sk-musicapi-0123456789"


@pytest.fixture
def capture() -> Iterator[tuple[logging.Logger, io.StringIO, logging.StreamHandler[io.StringIO]]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("test.observability.logs")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logs.add_secret(TOKEN)
    logs.add_secret(KEY)
    yield logger, stream, handler
    logger.removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_carry_ids_from_context_and_extra(capture) -> None:  # type: ignore[no-untyped-def]
    logger, stream, handler = capture
    handler.setFormatter(logs.JsonFormatter())
    logger.info("no context")
    with logs.log_context(job_id=7, guild_id=42):
        logger.warning("polling %s", "abc", extra={"task_id": "task-1"})
    logger.info("after")
    first, second, third = lines(stream)
    assert set(first) == {"time", "level", "logger", "message"}
    assert first["logger"] == "test.observability.logs" and first["level"] == "INFO"
    assert str(first["time"]).endswith("+00:00")
    assert second == {
        "time": second["time"],
        "level": "WARNING",
        "logger": "test.observability.logs",
        "message": "polling abc",
        "job_id": 7,
        "guild_id": 42,
        "task_id": "task-1",
    }
    assert "job_id" not in third


def test_the_traceback_stays_inside_the_object(capture) -> None:  # type: ignore[no-untyped-def]
    logger, stream, handler = capture
    handler.setFormatter(logs.JsonFormatter())
    try:
        raise ValueError(f"bad value near {KEY}")
    except ValueError:
        logger.exception("it failed")
    (entry,) = lines(stream)  # one line, however long the traceback
    assert entry["message"] == "it failed"
    assert "Traceback" in str(entry["exc_info"]) and "ValueError" in str(entry["exc_info"])
    assert KEY not in stream.getvalue() and "[redacted]" in str(entry["exc_info"])


@pytest.mark.parametrize("formatter", [logs.JsonFormatter(), logs.TextFormatter()])
def test_no_secret_in_either_format(capture, formatter: logging.Formatter) -> None:  # type: ignore[no-untyped-def]
    logger, stream, handler = capture
    handler.setFormatter(formatter)
    logger.info("token %s and key %s", TOKEN, KEY)
    logger.info(f"inline {TOKEN}")
    try:
        raise RuntimeError(TOKEN)
    except RuntimeError:
        logger.exception("with traceback")
    text = stream.getvalue()
    assert TOKEN not in text and KEY not in text
    assert text.count("[redacted]") >= 4


def test_text_lines_show_the_ids(capture) -> None:  # type: ignore[no-untyped-def]
    logger, stream, handler = capture
    handler.setFormatter(logs.TextFormatter())
    with logs.log_context(job_id=3):
        logger.info("delivered")
    assert stream.getvalue().rstrip().endswith("delivered [job_id=3]")


async def test_ids_bound_in_one_task_stay_in_it(capture) -> None:  # type: ignore[no-untyped-def]
    logger, stream, handler = capture
    handler.setFormatter(logs.JsonFormatter())

    async def job(job_id: int) -> None:
        logs.bind(job_id=job_id)
        await asyncio.sleep(0)
        logger.info("working")

    await asyncio.gather(job(1), job(2))
    logger.info("outside")
    entries = lines(stream)
    assert sorted(e.get("job_id") for e in entries[:2]) == [1, 2]  # type: ignore[type-var]
    assert "job_id" not in entries[2]


def test_short_values_are_not_treated_as_secrets() -> None:
    logs.add_secret("abc")
    assert logs.redact("abc abc") == "abc abc"


FORGED = "ok\n[2026-01-01 00:00:00] [INFO    ] bot.jobs: job 1 succeeded\r\x1b[2Kcleared\x85\u2028"


def test_text_lines_cannot_be_forged_by_what_they_quote(capture) -> None:  # type: ignore[no-untyped-def]
    logger, stream, handler = capture
    handler.setFormatter(logs.TextFormatter())
    logger.warning("MusicAPI said: %s", FORGED, extra={"task_id": "t\nx"})
    (line,) = stream.getvalue().splitlines()  # one record, one line
    assert "\x1b" not in line and "\r" not in line and "\x85" not in line
    assert "ok\\n[2026-01-01 00:00:00]" in line and "\\r\\x1b[2Kcleared\\x85\\u2028" in line
    assert line.endswith("[task_id=t\\nx]")


def test_a_traceback_in_text_cannot_start_a_line_like_a_record(capture) -> None:  # type: ignore[no-untyped-def]
    logger, stream, handler = capture
    handler.setFormatter(logs.TextFormatter())
    try:
        raise ValueError(FORGED)
    except ValueError:
        logger.exception("it failed")
    first, *rest = stream.getvalue().rstrip("\n").split("\n")
    assert first.endswith("it failed") and rest and rest[0].strip().startswith("Traceback")
    assert all(line.startswith("  ") for line in rest)  # none passes for a record of its own
    assert not any("\x1b" in line or "\r" in line for line in rest)


def test_every_control_character_is_escaped() -> None:
    controls = [*map(chr, range(0x20)), "\x7f", *map(chr, range(0x80, 0xA0)), "\u2028", "\u2029"]
    escaped = logs.escape_controls("".join(controls))
    assert escaped.isprintable() and "\\n" in escaped and "\\x1b" in escaped
    assert logs.escape_controls("plain text, é and 🎵") == "plain text, é and 🎵"


def test_json_lines_already_escape_control_characters(capture) -> None:  # type: ignore[no-untyped-def]
    logger, stream, handler = capture
    handler.setFormatter(logs.JsonFormatter())
    logger.warning("MusicAPI said: %s", FORGED)
    (raw,) = stream.getvalue().splitlines()  # splits at NEL and U+2028 too: none are left raw
    assert json.loads(raw)["message"] == f"MusicAPI said: {FORGED}"
