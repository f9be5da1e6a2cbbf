"""The Riffusion family (REFERENCE §6, *Deprecated* in the newest docs): its routes, poll path
and poll/webhook parser. Kept so old jobs and experiments still work; expect 410s.

Riffusion polls as a Sonic-like clip list that fills up one song at a time (REFERENCE §2.4).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.states import Family

from ..models import TaskStatus
from .spec import FamilySpec

__all__ = ["SPEC", "riffusion_status"]


def riffusion_status(
    task_id: str, http_status: int, body: Any, request_id: str | None = None
) -> TaskStatus:
    """``GET /riffusion/task/{id}`` → ``{code, data: [clip], message}``, two songs per task:
    while only one is present the task is not done, whatever that one's state."""
    status = TaskStatus.from_poll(task_id, http_status, body, request_id)
    if status.done and status.state != "failed" and len(status.clips) == 1:
        return replace(status, state="streaming" if status.usable_clips else "running")
    if status.state == "failed" and len(status.clips) == 1 and status.failure is not None:
        if status.failure.kind == "clips_failed":
            return replace(status, state="running", failure=None)  # the second may still work
    return status


SPEC = FamilySpec(
    family=Family.RIFFUSION,
    poll_path="/riffusion/task",
    create_paths=("/riffusion/create",),
    parse_result=riffusion_status,
    parse_webhook=riffusion_status,
    retired=True,
)
