"""What a MusicAPI family is, as one frozen value: its routes, its poll path and its parsers.

Each family module (``sonic.py``, ``producer.py`` ...) declares one ``FamilySpec``; the client,
the webhook receiver and the scheduler look a family up through ``bot.musicapi.families``
instead of keeping their own tables.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.states import Family

from ..transport import PollParser

__all__ = ["FamilySpec"]


@dataclass(frozen=True, slots=True)
class FamilySpec:
    family: Family
    poll_path: str  # GET {poll_path}/{task_id}
    create_paths: tuple[str, ...]  # the POST routes that make a task polled on poll_path
    parse_result: PollParser  # a poll's answer
    # A verified webhook's body: MusicAPI wraps the poll body in its envelope
    # (docs/musicapi/protocol.md §5), so every family reads it with its poll parser, but the two are
    # kept apart here so that a family whose webhook differs changes one line.
    parse_webhook: PollParser
    # The newest docs retire it (Riffusion *Deprecated*, Studio *Unavailable*): kept so old
    # jobs still finish, but a 410 is expected.
    retired: bool = False
