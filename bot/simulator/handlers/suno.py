"""The SDK's older ``/suno/*`` names for Sonic routes (docs/musicapi/protocol.md §3.19), still
answered."""

from __future__ import annotations

from aiohttp import web

from ..core import API, SimCore
from ..protocol import (
    msg_required,
)
from ..rules import (
    missing,
)
from . import Handler, Route

__all__ = ["SunoAliasHandlers"]


class SunoAliasHandlers:
    """Route handlers over the simulator's shared state."""

    def __init__(self, sim: SimCore, create: Handler, task: Handler) -> None:
        self.sim = sim
        self._create, self._task = create, task  # Sonic's own handlers, under the old names

    def routes(self) -> list[Route]:
        return [
            ("POST", f"{API}/suno/create", self._create),
            ("GET", f"{API}/suno/clip/{{task_id}}", self._task),
            ("POST", f"{API}/suno/make-lyrics", self._handle_suno_make_lyrics),
            ("GET", f"{API}/suno/get-lyrics/{{task_id}}", self._handle_suno_get_lyrics),
            ("POST", f"{API}/suno/get-song", self._handle_suno_get_song),
        ]

    # ------------------------------------------------------------------ the SDK's /suno names

    async def _handle_suno_make_lyrics(self, request: web.Request) -> web.Response:
        body = await self.sim._read_object(request) or {}
        prompt = body.get("prompt")
        if missing(prompt) or not isinstance(prompt, str):
            return self.sim._error(400, msg_required("prompt"))
        if len(prompt) >= 120:
            return self.sim._error(400, "The prompt character length should be less than 120.")
        task_id = str(self.sim.new_id())
        self.sim._suno_lyrics[task_id] = {
            "task_id": task_id,
            "status": "complete",
            "title": prompt.strip().title()[:60],
            "text": f"[Verse]\nA song about {prompt.strip()}\n\n[Chorus]\nSing it, simulator",
        }
        return web.json_response({"code": 200, "data": {"task_id": task_id}, "message": "success"})

    async def _handle_suno_get_lyrics(self, request: web.Request) -> web.Response:
        found = self.sim._suno_lyrics.get(request.match_info["task_id"])
        if found is None:
            return self.sim._not_found()
        return web.json_response({"code": 200, "data": found, "message": "success"})

    async def _handle_suno_get_song(self, request: web.Request) -> web.Response:
        body = await self.sim._read_object(request) or {}
        link = body.get("share_link")
        if missing(link) or not isinstance(link, str):
            return self.sim._error(400, msg_required("share_link"))
        clip, problem = self.sim._source(link.rstrip("/").rsplit("/", 1)[-1], "share_link")
        if problem is not None or clip is None:
            return self.sim._error(404, "song not found.")
        origin = self.sim._origin(request)
        return web.json_response(
            {
                "audio_url": f"{origin}/files/{clip.clip_id}.wav",
                "video_url": None,
                "cover_image": f"{origin}/files/image_{clip.clip_id}.png",
                "song_title": clip.title,
                "song_author": "Simulator",
                "music_styles": clip.tags,
            }
        )
