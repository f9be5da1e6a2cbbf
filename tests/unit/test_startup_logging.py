"""discord.py's own reconnect lines lose the traceback of a network error, and keep any other."""

from __future__ import annotations

import logging
import sys

from bot.startup import QuietNetworkErrors


def record_of(name: str, error: BaseException) -> logging.LogRecord:
    try:
        raise error
    except BaseException:
        exc_info = sys.exc_info()
    return logging.LogRecord(
        name, logging.ERROR, __file__, 1, "Attempting a reconnect in %.2fs", (4.2,), exc_info
    )


def test_a_network_error_from_discord_py_is_one_line() -> None:
    record = record_of("discord.client", ConnectionRefusedError(111, "Connect call failed"))
    assert QuietNetworkErrors().filter(record)
    assert record.exc_info is None
    line = logging.Formatter("%(message)s").format(record)
    assert line == (
        "Attempting a reconnect in 4.20s (ConnectionRefusedError: [Errno 111] Connect call failed)"
    )


def test_a_bug_keeps_its_traceback() -> None:
    record = record_of("discord.client", KeyError("oops"))
    assert QuietNetworkErrors().filter(record)
    assert record.exc_info is not None
    assert "Traceback" in logging.Formatter("%(message)s").format(record)


def test_the_bots_own_lines_are_left_alone() -> None:
    record = record_of("bot.jobs.scheduler", ConnectionRefusedError(111, "refused"))
    assert QuietNetworkErrors().filter(record)
    assert record.exc_info is not None
