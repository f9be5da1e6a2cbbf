"""Shard ranges: which of the bot's shards this process runs (`SHARD_COUNT`, `SHARD_IDS`).

Discord routes a server's gateway events to shard `(guild_id >> 22) % shard_count`. Every
process of one bot must agree on `SHARD_COUNT`; each runs the shards listed in its
`SHARD_IDS`, and together they cover 0 .. SHARD_COUNT-1 exactly once.
"""

from __future__ import annotations


class ShardSpecError(ValueError):
    """A SHARD_IDS value that is not a list of shard numbers and ranges."""


def shard_of(guild_id: int, shard_count: int) -> int:
    return (guild_id >> 22) % shard_count


def parse_shard_ids(raw: str, shard_count: int) -> tuple[int, ...]:
    """`0,1` or `0-3` or both mixed (`0-3,8`): the sorted shard numbers, each < shard_count."""
    found: set[int] = set()
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        low_raw, dash, high_raw = part.partition("-")
        if not low_raw.strip().isdigit() or (dash and not high_raw.strip().isdigit()):
            raise ShardSpecError(f"{part!r} is not a shard number or a range like 0-3")
        low = int(low_raw)
        high = int(high_raw) if dash else low
        if high < low:
            raise ShardSpecError(f"{part!r} is a range that runs backwards")
        if high >= shard_count:
            raise ShardSpecError(
                f"shard {high} does not exist with SHARD_COUNT={shard_count} "
                f"(shards are numbered 0 to {shard_count - 1})"
            )
        overlap = found & set(range(low, high + 1))
        if overlap:
            raise ShardSpecError(f"shard {min(overlap)} is listed twice")
        found.update(range(low, high + 1))
    if not found:
        raise ShardSpecError("lists no shard")
    return tuple(sorted(found))
