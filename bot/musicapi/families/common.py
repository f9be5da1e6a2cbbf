"""Pieces the family parsers share: the errors and outcomes every poll shape can end in."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import MalformedResponseError
from ..models import TaskFailure, TaskStatus, failure_text

__all__ = ["EMPTY_RESULT", "empty_success", "failed_status", "unexpected"]

EMPTY_RESULT = "MusicAPI reported success but sent no audio."


def unexpected(http_status: int, request_id: str | None) -> MalformedResponseError:
    return MalformedResponseError(
        "MusicAPI sent an unexpected task status.", status=http_status, request_id=request_id
    )


def empty_success(task_id: str, request_id: str | None, **extra: Any) -> TaskStatus:
    # Success with nothing to deliver would strand a job as "done" with no song; calling it a
    # failure releases the member's credits instead.
    return TaskStatus(
        task_id=task_id,
        state="failed",
        failure=TaskFailure(kind="empty_result", message=EMPTY_RESULT),
        request_id=request_id,
        **extra,
    )


def failed_status(task_id: str, body: Mapping[str, Any], default: str, **extra: Any) -> TaskStatus:
    kind = body.get("type")
    return TaskStatus(
        task_id=task_id,
        state="failed",
        failure=TaskFailure(
            kind=kind if isinstance(kind, str) and kind else "failed",
            message=failure_text(body) or default,
        ),
        **extra,
    )
