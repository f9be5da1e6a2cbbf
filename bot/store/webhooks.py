"""SQL for received webhooks and the bot's own generated secrets."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.store.database import Connection


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    id: int
    job_id: int
    task_id: str
    event: str
    payload: dict[str, Any]
    received_at: float


async def secret(conn: Connection, name: str, make: Callable[[], str], now: float) -> str:
    """The stored value named `name`, made (once, by whichever process gets there first)."""
    await conn.execute(
        "INSERT INTO bot_secrets (name, value, created_at) VALUES (?, ?, ?) "
        "ON CONFLICT (name) DO NOTHING",
        (name, make(), now),
    )
    cursor = await conn.execute("SELECT value FROM bot_secrets WHERE name = ?", (name,))
    row = await cursor.fetchone()
    assert row is not None
    return str(row[0])


async def record(
    conn: Connection,
    job_id: int,
    delivery_id: str | None,
    task_id: str,
    event: str,
    payload: dict[str, Any],
    now: float,
) -> bool:
    """Keep a verified event for its job; False when it was seen before (a replay)."""
    cursor = await conn.execute(
        """INSERT INTO webhook_events (job_id, delivery_id, task_id, event, payload, received_at)
           VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""",
        (job_id, delivery_id, task_id, event, json.dumps(payload), now),
    )
    return cursor.rowcount == 1


async def pending(conn: Connection, job_id: int) -> list[WebhookEvent]:
    cursor = await conn.execute(
        """SELECT id, job_id, task_id, event, payload, received_at FROM webhook_events
           WHERE job_id = ? AND applied_at IS NULL ORDER BY id""",
        (job_id,),
    )
    return [
        WebhookEvent(row[0], row[1], row[2], row[3], json.loads(row[4]), row[5])
        for row in await cursor.fetchall()
    ]


async def with_pending(conn: Connection, job_ids: list[int]) -> set[int]:
    """Those of `job_ids` that have a stored webhook not yet acted on."""
    if not job_ids:
        return set()
    marks = ", ".join("?" for _ in job_ids)
    cursor = await conn.execute(
        f"""SELECT DISTINCT job_id FROM webhook_events
           WHERE applied_at IS NULL AND job_id IN ({marks})""",
        tuple(job_ids),
    )
    return {int(row[0]) for row in await cursor.fetchall()}


async def mark_applied(conn: Connection, event_id: int, now: float) -> None:
    await conn.execute("UPDATE webhook_events SET applied_at = ? WHERE id = ?", (now, event_id))
