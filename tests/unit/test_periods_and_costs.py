from datetime import UTC, datetime

import pytest

from bot.periods import current_window
from bot.quota.costs import DEFAULT_COSTS, CostTable


def ts(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


def test_day_week_month_windows_in_utc() -> None:
    now = ts(2026, 11, 25, 23, 59, 59)  # a Wednesday
    day = current_window("day", now)
    assert (day.start, day.end) == (ts(2026, 11, 25), ts(2026, 11, 26))
    week = current_window("week", now)
    assert (week.start, week.end) == (ts(2026, 11, 23), ts(2026, 11, 30))
    month = current_window("month", now)
    assert (month.start, month.end) == (ts(2026, 11, 1), ts(2026, 12, 1))


def test_december_rolls_into_next_year_and_none_never_resets() -> None:
    window = current_window("month", ts(2026, 12, 31, 12))
    assert window.end == ts(2027, 1, 1)
    forever = current_window("none", ts(2026, 12, 31, 12))
    assert forever.end is None and forever.resets_at is None


def test_cost_table_defaults_and_overrides() -> None:
    table = CostTable({"create_music": 15})
    assert table.cost("create_music") == 15
    assert table.cost("stems_full") == DEFAULT_COSTS["stems_full"] == 75
    with pytest.raises(KeyError):
        CostTable({"nonsense": 1})
