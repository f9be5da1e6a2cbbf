"""The limit rules as a pure function: which limit refuses, and what the member is told."""

from datetime import UTC, datetime

import pytest

from bot.errors import QuotaRefused
from bot.periods import current_window
from bot.quota.limits import Standing, check, check_standing
from bot.store.settings import GuildSettings

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC).timestamp()


def standing(**overrides: object) -> Standing:
    settings = overrides.pop("settings", GuildSettings(1, 100, "week"))
    values: dict[str, object] = {
        "settings": settings,
        "window": current_window(settings.budget_period, NOW),  # type: ignore[union-attr,arg-type]
        "server_spent": 0,
        "member_id": 7,
    }
    values.update(overrides)
    return Standing(**values)  # type: ignore[arg-type]


def refused(s: Standing, cost: int = 20, channel: int = 5, **kw: bool) -> QuotaRefused:
    with pytest.raises(QuotaRefused) as caught:
        check(s, cost, channel, **kw)
    return caught.value


def test_within_every_limit_passes() -> None:
    check(standing(member_limit=40, member_spent=20), 20, 5)


def test_server_budget_names_itself_and_when_it_resets() -> None:
    error = refused(standing(server_spent=90))
    assert error.limit == "server budget"
    assert error.frees_at == datetime(2026, 11, 23, tzinfo=UTC)  # next Monday, UTC
    assert "weekly" in str(error) and "10 of 100" in str(error)


def test_member_limit_counts_grants() -> None:
    error = refused(standing(member_limit=30, member_spent=20))
    assert error.limit == "member limit" and "10 of 30" in str(error)
    check(standing(member_limit=30, member_spent=20, member_grants=10), 20, 5)


def test_blocked_member_is_refused_first() -> None:
    assert refused(standing(blocked=True, server_spent=100)).limit == "block list"


def test_channel_allow_list_lists_the_channels() -> None:
    error = refused(standing(allowed_channels=(8, 9)), channel=5)
    assert error.limit == "channel allow-list" and "<#8>, <#9>" in str(error)
    check(standing(allowed_channels=(5,)), 20, 5)


def test_concurrency_caps() -> None:
    settings = GuildSettings(1, 100, "week", member_jobs_cap=1, server_jobs_cap=3)
    assert refused(standing(settings=settings, member_active=1)).limit == (
        "songs in progress per member"
    )
    assert refused(standing(settings=settings, server_active=3)).limit == (
        "songs in progress per server"
    )


def test_server_pool_charges_skip_the_members_own_limits() -> None:
    s = standing(member_limit=0, blocked=True)
    check(s, 20, 5, member_checks=False)  # an approved request: only the server's limits
    assert refused(standing(server_spent=95), member_checks=False).limit == "server budget"


@pytest.mark.parametrize(
    ("overrides", "limit"),
    [
        ({"blocked": True}, "block list"),
        ({"allowed_channels": (6,)}, "channel allow-list"),
        ({"settings": GuildSettings(1, 100, "week", member_jobs_cap=1), "member_active": 1},
         "songs in progress per member"),
        ({"settings": GuildSettings(1, 100, "week", server_jobs_cap=2), "server_active": 2},
         "songs in progress per server"),
    ],
)  # fmt: skip
def test_the_standing_checks_refuse_alone_and_inside_every_reservation_check(
    overrides: dict[str, object], limit: str
) -> None:
    with pytest.raises(QuotaRefused) as alone:
        check_standing(standing(**overrides), 5)
    assert alone.value.limit == limit == refused(standing(**overrides)).limit


def test_the_standing_checks_ignore_what_is_left_to_spend() -> None:
    spent = standing(server_spent=100, member_limit=10, member_spent=10)
    check_standing(spent, 5)  # a free repeat or a file read is not refused for the budget
    assert refused(spent).limit == "member limit"
