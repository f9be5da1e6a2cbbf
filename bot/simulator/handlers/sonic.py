"""The simulated Sonic create and poll routes (docs/musicapi/protocol.md §3.1), credits and
lyrics."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..core import API, SimCore, inherited_magic, number
from ..protocol import (
    MAGIC_HALF_FAIL,
    MAGIC_LYRICS_MODERATE,
    MSG_DESCRIPTION_LENGTH,
    MSG_DESCRIPTION_REQUIRED,
    MSG_LYRICS_INAPPROPRIATE,
    MSG_TASK_NOT_FOUND,
    NOT_READY_UNTIL,
    TASK_COSTS,
    SimClip,
    SimTask,
    msg_continue_at,
    msg_not_for_uploads,
    msg_too_old,
    msg_upload_only,
    msg_window,
    validate_create,
)
from ..rules import Problem, check_window, is_number
from ..tables import SONIC_REQUIRED
from . import Route, task_routes

__all__ = ["SonicHandlers"]


# §3.1 rules about the clip a /sonic/create task builds on.
_UPLOAD_ONLY = ("extend_upload_music", "cover_upload_music", "add_vocals", "add_instrumental")
_GENERATED_ONLY = ("extend_music", "cover_music")
_RECENT_ONLY = ("remaster", "add_vocals", "add_instrumental")  # "< 24 h old"
_EXTENDS = ("extend_music", "extend_upload_music")
_OVERPAINTS = ("add_vocals", "add_instrumental")


class SonicHandlers:
    """Route handlers over the simulator's shared state."""

    def __init__(self, sim: SimCore) -> None:
        self.sim = sim

    def routes(self) -> list[Route]:
        sim = self.sim
        return [
            ("POST", f"{API}/sonic/create", self._handle_create),
            *task_routes(API, "sonic", self._handle_task, sim._handle_missing_task_id),
            ("GET", f"{API}/get-credits", self._handle_credits),
            ("POST", f"{API}/sonic/lyrics", self._handle_lyrics),
        ]

    # ------------------------------------------------------------------ /sonic/create

    async def _handle_create(self, request: web.Request) -> web.Response:
        body = await self.sim._read_object(request)
        if body is None:
            return self.sim._error(400, "The request body must be a JSON object.")
        if body.get("prompt") is None and isinstance(body.get("lyrics"), str):
            # [sdk] sends ``lyrics`` as an alias of ``prompt``; ``prompt`` wins when both are set.
            body = {**body, "prompt": body["lyrics"]}
        problem = validate_create(body, self.sim.config.limits)
        if problem is not None:
            return self.sim._error(*problem)
        task_type = body.get("task_type", "create_music")
        source, problem = self._create_source(task_type, body)
        text, refused = self.sim._screen(body, problem)
        if refused is not None:
            return refused
        cost = float(TASK_COSTS[task_type])
        if not self.sim._charge(cost):
            return self.sim._no_credits()
        task = self._new_task(task_type, body, cost, f"{text} {inherited_magic(source)}".strip())
        return self.sim._accepted(task)

    def _create_source(
        self, task_type: str, body: dict[str, Any]
    ) -> tuple[SimClip | None, Problem | None]:
        """The clip (or persona) a task builds on, checked against the §3.1 rules."""
        if task_type == "persona_music":
            return None, self.sim._persona_problem(body.get("persona_id"))
        if "continue_clip_id" not in SONIC_REQUIRED[task_type]:
            return None, None
        clip, problem = self.sim._source(body.get("continue_clip_id"), "continue_clip_id")
        if problem is not None or clip is None:
            return None, problem
        if task_type in _UPLOAD_ONLY and not clip.uploaded:
            return None, (400, msg_upload_only(task_type))
        if task_type in _GENERATED_ONLY and clip.uploaded:
            return None, (400, msg_not_for_uploads(task_type))
        if task_type in _RECENT_ONLY and self.sim._is_older_than_a_day(clip):
            return None, (400, msg_too_old(task_type))
        seconds = self.sim._clip_seconds(clip)
        if task_type in _EXTENDS:
            at = body.get("continue_at")
            if not is_number(at) or not 0 < at < seconds:
                return None, (400, msg_continue_at(seconds))
        if task_type in _OVERPAINTS:
            window = check_window(body, "overpainting_start_s", "overpainting_end_s")
            if window is not None or body["overpainting_start_s"] >= seconds:
                return None, (
                    400,
                    msg_window("overpainting_start_s", "overpainting_end_s", seconds),
                )
        return clip, None

    def _new_task(self, task_type: str, body: dict[str, Any], cost: float, text: str) -> SimTask:
        task = self.sim._open_task(family="sonic", kind=task_type, body=body, cost=cost, text=text)
        count = 1 if task_type == "concat_music" else 2  # concat returns the one full song
        tone = self.sim._tone_base(task)
        for index in range(count):
            clip = self.sim._song_clip(body, index, tone, text)
            clip.will_fail = index == 1 and MAGIC_HALF_FAIL in text
            self.sim._add_clip(task, clip)
        return task

    async def _handle_task(self, request: web.Request) -> web.Response:
        task_id = request.match_info["task_id"]
        task = self.sim.tasks.get(task_id)
        if task is None or task.family != "sonic":
            return self.sim._error(self.sim.config.not_found_status, MSG_TASK_NOT_FOUND)
        self.sim.polls_by_task[task_id] = self.sim.polls_by_task.get(task_id, 0) + 1
        progress = task.progress()
        voice = task.task_type == "create_voice"
        if self.sim.config.not_ready_202 and (
            progress < NOT_READY_UNTIL or (voice and progress < 1.0)
        ):
            # A voice has no clips to show while it trains, so it is "not ready" throughout.
            return web.json_response({"type": "not_ready"}, status=202)
        if progress >= 1.0 and task.fail_message is not None:
            if self.sim.config.failure_mode == "type" or voice:
                return web.json_response({"type": "failed", "error": task.fail_message})
        data = self._sonic_data(self.sim._origin(request), task, progress)
        return web.json_response({"code": 200, "data": data, "message": "success"})

    def _sonic_data(self, origin: str, task: SimTask, progress: float) -> Any:
        """The ``data`` of a Sonic poll (and of its webhooks): clips, auto_concat pairs, or a
        create-voice result."""
        if task.task_type == "create_voice":
            if progress < 1.0:
                return None
            return {"persona_id": task.extra["persona_id"], "name": task.extra["name"]}
        pair_key = task.extra.get("pair_key")
        if pair_key:
            return [
                {
                    pair_key: self.sim._clip_json(origin, part, task.clip_state(part, progress)),
                    # "full stays null while the concat step is still running" (§3.13)
                    "full": self.sim._clip_json(origin, full, task.clip_state(full, progress))
                    if task.visible(full, progress)
                    else None,
                }
                for part, full in zip(task.clips, task.fulls, strict=True)
            ]
        return [
            self.sim._clip_json(origin, c, task.clip_state(c, progress))
            for c in task.clips
            if task.visible(c, progress)
        ]

    # ------------------------------------------------------------------ credits, lyrics, files

    async def _handle_credits(self, request: web.Request) -> web.Response:
        return web.json_response({"credits": number(self.sim.balance), "extra_credits": 0})

    async def _handle_lyrics(self, request: web.Request) -> web.Response:
        body = await self.sim._read_object(request) or {}
        description = body.get("description")
        if not isinstance(description, str) or not description.strip():
            return self.sim._error(400, MSG_DESCRIPTION_REQUIRED)
        if len(description) >= 120:
            return self.sim._error(400, MSG_DESCRIPTION_LENGTH)
        if MAGIC_LYRICS_MODERATE in description:
            return self.sim._error(403, MSG_LYRICS_INAPPROPRIATE)
        topic = description.strip()
        results = [
            {
                "title": f"{topic.title()[:60]} ({label})",
                "lyrics": f"[Verse]\nTake {label}: a song about {topic}\n\n[Chorus]\n"
                f"Sing it loud, version {label}",
            }
            for label in ("A", "B")
        ]
        return web.json_response({"code": 200, "results": results, "message": "success"})
