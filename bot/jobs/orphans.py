"""Jobs whose submit was cut off: what they were, what the member is told, and the owner's count.

A job row exists from its reservation, state 'submitting'. Just before its task-creating request
leaves, the job is stamped with the request's fingerprint and `sent_at` (committed first), so a
job found 'submitting' after a crash is one of two kinds:

- `sent_at` unset: the request never left. Nothing was made; the reservation is released.
- `sent_at` set: the request may have reached MusicAPI, which may have made and billed the
  task. Without the task id the bot cannot poll it, and a resend could make a second one, so
  the job is an *orphan*: released, the member told the truth, and the owner shown a count
  (`/musicbot status`, and a warning in the log with the fingerprint to match against
  MusicAPI's dashboard). Where a webhook can still name the task, the job is held
  ('unconfirmed') for a while first, and `Scheduler.adopt_task` resumes it as usual. The
release itself is `lifecycle.release_orphan`, the one writer of a job's end.

A submit whose answer never came and one whose answer came but could not be read are told
apart from the transport's `SubmitOutcomeUnknown.reason` to the member's message: the reason's
text is stored with the job while it is held. What the member reads ends with what became of
the credits, as the ledger has it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from bot.musicapi.errors import UnknownOutcome
from bot.store.database import Connection

NOT_SENT_REASON = "The bot restarted before sending this job to MusicAPI, so it was not made."
RESTART_ORPHAN_REASON = (
    "The bot restarted while sending this job to MusicAPI, before MusicAPI confirmed it. "
    "It might still have been made, but the bot cannot deliver it, and it will not send it "
    "again."
)
NO_ANSWER_ORPHAN_REASON = (
    "MusicAPI did not answer in time, so the bot cannot tell whether it took this job. The "
    "song might still be made, but the bot cannot deliver it, and it will not send it again."
)
UNREADABLE_ORPHAN_REASON = (
    "MusicAPI answered, but its answer could not be read (it named no job the bot can "
    "follow), so the bot cannot tell whether it took this job. The song might still be made, "
    "but the bot cannot deliver it, and it will not send it again."
)
UNKNOWN_OUTCOME_REASONS = {
    UnknownOutcome.NO_ANSWER: NO_ANSWER_ORPHAN_REASON,
    UnknownOutcome.UNREADABLE: UNREADABLE_ORPHAN_REASON,
}


def credits_note(kinds: set[str], cost: int, *, released: bool) -> str:
    """What became of a job's credits: `released` by this release, else as its ledger entries
    (`kinds`) have it. True either way."""
    if released:
        return f"Its {cost} credits were returned." if cost else "Nothing was charged for it."
    if "commit" in kinds:
        return f"Its {cost} credits stay charged."
    if "release" in kinds:
        return f"Its {cost} credits had already been returned."
    return "Nothing was charged for it."


def fingerprint(operation: str, family: str, body: dict[str, Any]) -> str:
    """A stable digest of what was asked: matches a job to a task on MusicAPI's side without
    keeping (or logging) the request text."""
    canonical = json.dumps(
        {"operation": operation, "family": family, "body": body},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


async def count(conn: Connection, since: float = 0.0) -> int:
    cursor = await conn.execute(
        "SELECT COUNT(*) FROM jobs WHERE orphaned_at IS NOT NULL AND orphaned_at >= ?", (since,)
    )
    row = await cursor.fetchone()
    return int(row[0]) if row else 0
