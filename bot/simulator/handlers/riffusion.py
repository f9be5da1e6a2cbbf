"""The simulated Riffusion family (docs/musicapi/protocol.md §6): two songs; the first is final (and
alone in ``data``) before the second appears.
"""

from __future__ import annotations

from aiohttp import web

from ..core import API, SimCore, inherited_magic
from ..protocol import (
    ENDPOINT_COSTS,
    MAGIC_HALF_FAIL,
    SimClip,
)
from ..rules import (
    check_audio_url,
    edit_rules,
    validate_riffusion,
)
from . import Route, task_routes

__all__ = ["RiffusionHandlers"]

RIFFUSION_FIRST_DONE_AT = 0.7
RIFFUSION_SECOND_AT = 0.85


class RiffusionHandlers:
    """Route handlers over the simulator's shared state."""

    def __init__(self, sim: SimCore) -> None:
        self.sim = sim

    def routes(self) -> list[Route]:
        missing = self.sim._handle_missing_task_id
        return [
            *task_routes(API, "riffusion", self._handle_riffusion_task, missing),
            ("POST", f"{API}/riffusion/create", self._handle_riffusion_create),
            ("POST", f"{API}/riffusion/upload", self._handle_riffusion_upload),
        ]

    # ------------------------------------------------------------------ riffusion

    async def _handle_riffusion_create(self, request: web.Request) -> web.Response:
        body = await self.sim._read_object(request) or {}
        problem = validate_riffusion(body)
        kind = body.get("task_type", "create_music")
        source: SimClip | None = None
        if problem is None and kind != "create_music":
            source, problem = self.sim._source(
                body.get("continue_clip_id"), "continue_clip_id", "riffusion"
            )
            if problem is None and source is not None:
                problem = edit_rules(
                    kind,
                    source,
                    self.sim._clip_seconds(source),
                    body.get("continue_at"),
                    body.get("replace_end_time"),
                    ("continue_at", "replace_end_time"),
                )
        text, refused = self.sim._screen(body, problem)
        if refused is not None:
            return refused
        cost = ENDPOINT_COSTS["riffusion"]
        if not self.sim._charge(cost):
            return self.sim._no_credits()
        task = self.sim._open_task(
            family="riffusion",
            kind=kind,
            body=body,
            cost=cost,
            text=f"{text} {inherited_magic(source)}",
        )
        for index in range(2):
            clip = self.sim._make_clip(
                index=index,
                title=body.get("title") or "Riffusion Song",
                tags=body.get("sound") or "",
                lyrics=body.get("lyrics") or "",
                mv=body.get("mv") or "FUZZ-1.1",
                family="riffusion",
                tone=self.sim._tone_base(task),
                magic=text,
                finishes_at=RIFFUSION_FIRST_DONE_AT if index == 0 else 1.0,
                appears_at=RIFFUSION_SECOND_AT if index == 1 else 0.0,
                will_fail=index == 1 and MAGIC_HALF_FAIL in text,
            )
            self.sim._add_clip(task, clip)
        return web.json_response({"message": "success", "task_id": task.task_id})

    async def _handle_riffusion_upload(self, request: web.Request) -> web.Response:
        body = await self.sim._read_object(request) or {}
        problem = check_audio_url(body.get("url"))
        if problem is not None:
            return self.sim._api_error(problem)
        if not self.sim._charge(ENDPOINT_COSTS["riffusion_upload"]):
            return self.sim._no_credits()
        await self.sim._sleep(self.sim.config.upload_time)
        clip = self.sim._register_upload(body["url"], "riffusion")
        return web.json_response({"code": 200, "clip_id": clip.clip_id, "message": "success"})

    async def _handle_riffusion_task(self, request: web.Request) -> web.Response:
        task = self.sim._family_task(request, "riffusion")
        if task is None:
            return self.sim._not_found()
        progress = task.progress()
        if (
            progress >= 1.0
            and task.fail_message is not None
            and self.sim.config.failure_mode == "type"
        ):
            return web.json_response({"type": "failed", "error": task.fail_message})
        data = []
        for clip in task.clips:
            if not task.visible(clip, progress):
                continue
            state = task.clip_state(clip, progress)
            base = self.sim._clip_json(self.sim._origin(request), clip, state)
            final = state == "succeeded"
            data.append(
                {
                    "clip_id": clip.clip_id,
                    "title": clip.title,
                    "lyrics": clip.lyrics,
                    "image_url": base["image_url"],
                    "audio_url": base["audio_url"],
                    "video_url": None,
                    "created_at": clip.created_at,
                    "mv": clip.mv,
                    "duration": round(self.sim._clip_seconds(clip), 2) if final else 0,
                    "timestamp": None,
                    "state": state,
                }
            )
        return web.json_response({"code": 200, "data": data, "message": "success"})
