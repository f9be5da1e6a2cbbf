"""The Sonic family (REFERENCE §3): its routes, poll path and poll/webhook parser.

Every Sonic task polls on ``/sonic/task``: songs, stems (one clip per stem), auto_concat pairs,
and create-voice (``TaskStatus.persona``, no clips).
"""

from __future__ import annotations

from bot.states import Family

from ..models import TaskStatus
from .spec import FamilySpec

__all__ = ["SPEC"]

SPEC = FamilySpec(
    family=Family.SONIC,
    poll_path="/sonic/task",
    create_paths=(
        "/sonic/create",
        "/sonic/upload-extend",
        "/sonic/upload-cover",
        "/sonic/sample",
        "/sonic/mashup",
        "/sonic/stems/basic",
        "/sonic/stems/full",
        "/sonic/replace-section",
        "/sonic/create-voice",
    ),
    parse_result=TaskStatus.from_poll,
    parse_webhook=TaskStatus.from_poll,
)
