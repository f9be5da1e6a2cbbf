"""The simulated Studio family (docs/musicapi/protocol.md §8): ``data.status`` NOT_START →
IN_PROGRESS → SUCCESS, string ``code``.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from ..core import API, SimCore, inherited_magic
from ..protocol import (
    ENDPOINT_COSTS,
    MAGIC_HALF_FAIL,
    SimClip,
)
from ..rules import (
    validate_studio,
)
from . import Route, task_routes

__all__ = ["StudioHandlers"]

_STUDIO_STATUS = {
    "not_ready": "NOT_START",
    "pending": "NOT_START",
    "running": "IN_PROGRESS",
    "streaming": "IN_PROGRESS",
    "succeeded": "SUCCESS",
}


class StudioHandlers:
    """Route handlers over the simulator's shared state."""

    def __init__(self, sim: SimCore) -> None:
        self.sim = sim

    def routes(self) -> list[Route]:
        return [
            *task_routes(API, "studio", self._handle_studio_task, self.sim._handle_missing_task_id),
            ("POST", f"{API}/studio/create", self._handle_studio_create),
        ]

    # ------------------------------------------------------------------ studio

    async def _handle_studio_create(self, request: web.Request) -> web.Response:
        body = await self.sim._read_object(request) or {}
        problem = validate_studio(body)
        config = body.get("config") or {}
        source: SimClip | None = None
        if problem is None and config.get("mode") in ("precede", "continuation"):
            source, problem = self.sim._source(
                config["source"]["song_id"], "config.source.song_id", "studio"
            )
        text, refused = self.sim._screen(body, problem)
        if refused is not None:
            return refused
        cost = ENDPOINT_COSTS["studio"] * (2 if body.get("model_type") == "studio130-v1.5" else 1)
        if not self.sim._charge(cost):
            return self.sim._no_credits()
        task = self.sim._open_task(
            family="studio",
            kind="studio",
            body=body,
            cost=cost,
            text=f"{text} {inherited_magic(source)}",
        )
        task.extra["submitted"] = int(time.time())
        tags = [t.strip() for t in str(body.get("prompt") or "studio").split(",") if t.strip()]
        for index in range(2):
            clip = self.sim._make_clip(
                index=index,
                title=f"Studio Song v{index + 1}",
                tags=", ".join(tags),
                lyrics=""
                if body.get("lyrics_type") == "instrumental"
                else body.get("lyrics") or "",
                mv=body.get("model_type") or "studio32-v1.5",
                family="studio",
                tone=self.sim._tone_base(task),
                magic=text,
                will_fail=index == 1 and MAGIC_HALF_FAIL in text,
            )
            self.sim._add_clip(task, clip)
        return web.json_response({"code": 200, "data": task.task_id})

    async def _handle_studio_task(self, request: web.Request) -> web.Response:
        task = self.sim._family_task(request, "studio")
        if task is None:
            return self.sim._not_found()
        progress, state = task.progress(), task.state
        submitted = task.extra["submitted"]
        done = state in ("succeeded", "failed")
        data: dict[str, Any] = {
            "task_id": task.task_id,
            "notify_hook": "",
            "action": "studio-generate",
            "status": "FAILED" if state == "failed" else _STUDIO_STATUS[state],
            "fail_reason": task.fail_message if state == "failed" else "",
            "submit_time": submitted,
            "start_time": submitted + 1 if progress >= 0.35 else 0,
            "finish_time": submitted + max(1, round(task.generation_time)) if done else 0,
            "progress": f"{100 if done else min(99, int(progress * 100))}%",
            "data": {"songs": []},
        }
        if state == "succeeded":
            origin = self.sim._origin(request)
            data["data"]["songs"] = [
                {
                    "id": clip.clip_id,
                    "tags": clip.tags.split(", ") if clip.tags else [],
                    "liked": False,
                    "likes": 0,
                    "plays": 0,
                    "title": clip.title,
                    "artist": "Simulator",
                    "lyrics": clip.lyrics,
                    "song_path": f"{origin}/files/{clip.clip_id}.wav",
                    "image_path": f"{origin}/files/image_{clip.clip_id}.png",
                    "duration": round(self.sim._clip_seconds(clip), 2),
                    "created_at": clip.created_at,
                    "finished": True,
                }
                for clip in task.clips
            ]
        # Note the *string* code, unlike every other family (§2.4).
        return web.json_response({"code": "success", "message": "", "data": data})
