"""Refusals from outside are summarised once a window, not logged one by one."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.observability.refusals import MAX_REASONS, OTHER, RefusalLog
from tests.helpers import Clock

LOGGER = "test.refusals"


def summaries(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER]


def test_a_flood_is_one_line_with_counts_by_reason(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock(100.0)
    refusals = RefusalLog(logging.getLogger(LOGGER), "webhook deliveries refused", clock=clock)
    with caplog.at_level(logging.WARNING, LOGGER):
        for _ in range(500):
            refusals.note("no signature header")
        for _ in range(3):
            refusals.note("unknown job")
        assert summaries(caplog) == []  # nothing per request
        clock.now += 60
        refusals.flush()
        refusals.flush()  # nothing new: no second line
    assert summaries(caplog) == [
        "webhook deliveries refused: 503 in the last 60 s "
        "(500 × no signature header, 3 × unknown job)"
    ]
    (record,) = [r for r in caplog.records if r.name == LOGGER]
    assert record.levelno == logging.WARNING


async def test_the_window_closes_by_itself(caplog: pytest.LogCaptureFixture) -> None:
    written = asyncio.Event()

    class Seen(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            written.set()

    logger = logging.getLogger(LOGGER)
    handler = Seen()
    logger.addHandler(handler)
    try:
        refusals = RefusalLog(logger, "refused", every_s=0.05)
        with caplog.at_level(logging.WARNING, LOGGER):
            refusals.note("bad")
            refusals.note("bad")
            await asyncio.wait_for(written.wait(), 10)  # the timer, not a flush call
            refusals.note("bad")  # opens the next window
            refusals.flush()
    finally:
        logger.removeHandler(handler)
    lines = summaries(caplog)
    assert len(lines) == 2 and "2 × bad" in lines[0] and "1 × bad" in lines[1]


def test_reasons_are_bounded(caplog: pytest.LogCaptureFixture) -> None:
    refusals = RefusalLog(logging.getLogger(LOGGER), "refused")
    with caplog.at_level(logging.WARNING, LOGGER):
        for n in range(MAX_REASONS + 10):
            refusals.note(f"reason {n}")
        refusals.flush()
    (line,) = summaries(caplog)
    assert f"10 × {OTHER}" in line and f"reason {MAX_REASONS + 5}" not in line


def test_without_a_loop_the_next_refusal_closes_an_old_window(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock(0.0)
    refusals = RefusalLog(logging.getLogger(LOGGER), "refused", clock=clock)
    with caplog.at_level(logging.WARNING, LOGGER):
        refusals.note("bad")  # no running loop here, so no timer
        clock.now += 61
        refusals.note("bad")
    assert summaries(caplog) == ["refused: 1 in the last 61 s (1 × bad)"]
