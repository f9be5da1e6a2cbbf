"""SHARD_COUNT / SHARD_IDS / JOB_LEASE_S: what a process runs, and one-line refusals."""

import pytest

from bot.config import ConfigError, load_settings
from bot.shards import shard_of

BASE = {"DISCORD_TOKEN": "abc.def.ghi", "MUSICAPI_KEY": "k-123"}


def test_neither_set_runs_every_shard_discord_recommends() -> None:
    s = load_settings(BASE)
    assert s.shard_count is None and s.shard_ids is None
    assert s.job_lease_s == 20.0


@pytest.mark.parametrize(
    ("env", "count", "ids"),
    [
        ({"SHARD_COUNT": "4"}, 4, (0, 1, 2, 3)),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "0,1"}, 4, (0, 1)),
        ({"SHARD_COUNT": "8", "SHARD_IDS": "4-7"}, 8, (4, 5, 6, 7)),
        ({"SHARD_COUNT": "16", "SHARD_IDS": " 0-2, 9 ,5"}, 16, (0, 1, 2, 5, 9)),
        ({"SHARD_COUNT": "1", "SHARD_IDS": "0"}, 1, (0,)),
    ],
)
def test_shard_ranges(env: dict[str, str], count: int, ids: tuple[int, ...]) -> None:
    s = load_settings({**BASE, **env})
    assert (s.shard_count, s.shard_ids) == (count, ids)


@pytest.mark.parametrize(
    ("env", "variable", "words"),
    [
        ({"SHARD_IDS": "0-3"}, "SHARD_IDS", "needs SHARD_COUNT"),
        ({"SHARD_COUNT": "0"}, "SHARD_COUNT", "at least 1"),
        ({"SHARD_COUNT": "two"}, "SHARD_COUNT", "whole number"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "4"}, "SHARD_IDS", "0 to 3"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "1-5"}, "SHARD_IDS", "does not exist"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "3-1"}, "SHARD_IDS", "backwards"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "0-2,2"}, "SHARD_IDS", "listed twice"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "a,b"}, "SHARD_IDS", "not a shard number"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "-1"}, "SHARD_IDS", "not a shard number"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": ","}, "SHARD_IDS", "lists no shard"),
        ({"JOB_LEASE_S": "0.5"}, "JOB_LEASE_S", "at least 1"),
    ],
)
def test_bad_shard_settings_name_the_variable(
    env: dict[str, str], variable: str, words: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({**BASE, **env})
    assert caught.value.variable == variable
    assert words in caught.value.problem and "\n" not in caught.value.problem


def test_shard_of_follows_discord() -> None:
    # Discord's formula: (guild_id >> 22) % shard_count.
    assert shard_of(81384788765712384, 4) == (81384788765712384 >> 22) % 4
    assert {shard_of(n << 22, 3) for n in range(6)} == {0, 1, 2}
