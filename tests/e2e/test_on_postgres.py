"""The whole bot on PostgreSQL: a selection of the end-to-end tests, run again with
DATABASE_URL pointing at a fresh database in the throwaway cluster (tests/conftest.py).

Chosen for what differs between the engines: charging once and never overspending under
simultaneous commands, refunds, requests approved by two moderators at once, member limits,
grants and resets, the owner's allowances and daily cap, history pages, clip and persona
lookups, stems crash recovery, a repeat timeline found through the request's JSON, and the
standing checks read before a file is fetched and before a free repeat.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from tests.e2e import (
    test_owner_ceilings,
    test_quota_limits,
    test_requests,
    test_song,
    test_tools,
    test_upload_checks,
    test_upload_persona,
)


@pytest.fixture
def make_world(make_world: Callable[..., Any], pg_url: str) -> Callable[..., Any]:
    """The usual world, on a new PostgreSQL database."""

    @contextlib.asynccontextmanager
    async def on_postgres(**env: Any) -> AsyncIterator[Any]:
        async with make_world(DATABASE_URL=pg_url, **env) as world:
            assert world.bot.db.dialect.name == "postgres"
            yield world

    return on_postgres


test_create_delivers_two_songs_and_charges_once = (
    test_song.test_create_delivers_two_songs_and_charges_once
)
test_upstream_failure_returns_credits_and_says_so = (
    test_song.test_upstream_failure_returns_credits_and_says_so
)
test_simultaneous_creates_never_overspend = test_song.test_simultaneous_creates_never_overspend
test_two_moderators_approving_at_once_start_one_song = (
    test_requests.test_two_moderators_approving_at_once_start_one_song
)
test_approval_flow_with_votes = test_requests.test_approval_flow_with_votes
test_grants_reset_and_credits_view = test_quota_limits.test_grants_reset_and_credits_view
test_simultaneous_songs_never_overspend_a_member_limit = (
    test_quota_limits.test_simultaneous_songs_never_overspend_a_member_limit
)
test_history_is_paginated_filtered_and_names_the_moderator = (
    test_quota_limits.test_history_is_paginated_filtered_and_names_the_moderator
)
test_stems_crash_after_the_first_batch_posts_no_duplicate = (
    test_tools.test_stems_crash_after_the_first_batch_posts_no_duplicate
)
test_a_repeat_timeline_is_not_charged_again = test_tools.test_a_repeat_timeline_is_not_charged_again
test_a_clip_from_another_server_is_refused = test_tools.test_a_clip_from_another_server_is_refused
test_persona_from_a_song_then_sing_with_it = (
    test_upload_persona.test_persona_from_a_song_then_sing_with_it
)
test_standing_checks_refuse_a_file_before_it_is_fetched = (
    test_upload_checks.test_standing_checks_refuse_a_file_before_it_is_fetched
)
test_a_free_timeline_repeat_runs_the_standing_checks = (
    test_upload_checks.test_a_free_timeline_repeat_runs_the_standing_checks
)
test_the_owner_sets_an_allowance_that_moderators_cannot_budget_past = (
    test_owner_ceilings.test_the_owner_sets_an_allowance_that_moderators_cannot_budget_past
)
test_the_daily_cap_refuses_with_the_reset_time_and_alerts_once = (
    test_owner_ceilings.test_the_daily_cap_refuses_with_the_reset_time_and_alerts_once
)
