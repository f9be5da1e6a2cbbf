"""The simulated Nuro family (docs/musicapi/protocol.md §9): one song of exactly ``duration``
seconds; flat body with ``progress`` 0–100; errors in the catalogue's ``{type, description}``
envelope (§10.2).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..core import API, SimCore
from ..protocol import (
    ENDPOINT_COSTS,
    MAGIC_LANGUAGE,
    MAGIC_QUEUE_FULL,
    NURO_ALGORITHM,
    NURO_LANGUAGE,
    NURO_NOT_FOUND,
    NURO_QUEUE_FULL,
    SimTask,
    text_of,
)
from ..rules import (
    validate_nuro,
)
from . import Route, task_routes

__all__ = ["NuroHandlers"]


class NuroHandlers:
    """Route handlers over the simulator's shared state."""

    def __init__(self, sim: SimCore) -> None:
        self.sim = sim

    def routes(self) -> list[Route]:
        return [
            *task_routes(API, "nuro", self._handle_nuro_task, self.sim._handle_missing_task_id),
            ("POST", f"{API}/nuro/create", self._handle_nuro_create),
        ]

    # ------------------------------------------------------------------ nuro

    async def _handle_nuro_create(self, request: web.Request) -> web.Response:
        body = await self.sim._read_object(request)
        if body is None:
            return self.sim._nuro_error(
                400, ("bad_request", "The request body must be a JSON object.")
            )
        text = text_of(body)
        if MAGIC_QUEUE_FULL in text:
            return self.sim._nuro_error(403, NURO_QUEUE_FULL)
        if MAGIC_LANGUAGE in text:
            return self.sim._nuro_error(400, NURO_LANGUAGE)
        problem = validate_nuro(body, self.sim.config.nuro_segments_must_sum)
        if problem is not None:
            return self.sim._nuro_error(*problem)
        cost = ENDPOINT_COSTS["nuro"]
        if not self.sim._charge(cost):
            return self.sim._no_credits(nuro=True)
        task = self.sim._open_task(
            family="nuro", kind=f"nuro_{body['type']}", body=body, cost=cost, text=text
        )
        segments = body.get("segments") or []
        duration = body.get("duration") or sum(s["duration"] for s in segments) or 60
        genre = body.get("genre")
        self.sim._one_song(
            task,
            title="",
            tags=", ".join(genre) if isinstance(genre, list) else str(genre or ""),
            lyrics=body.get("lyrics", ""),
            mv="nuro",
            seconds=float(duration),  # Nuro's point: the exact duration asked for
        )
        return web.json_response({"message": "success", "task_id": task.task_id})

    async def _handle_nuro_task(self, request: web.Request) -> web.Response:
        task = self.sim._family_task(request, "nuro")
        if task is None:
            return self.sim._nuro_error(404, NURO_NOT_FOUND)
        return web.json_response(self._nuro_flat(self.sim._origin(request), task))

    def _nuro_flat(self, origin: str, task: SimTask) -> dict[str, Any]:
        """A Nuro poll body (flat, no envelope), also the ``data`` of its webhooks."""
        progress, state = task.progress(), task.state
        body = task.body
        flat: dict[str, Any] = {"task_id": task.task_id, "progress": min(99, int(progress * 100))}
        if state == "failed":
            kind, description = NURO_ALGORITHM  # api_error: refunded (§10.2)
            return {
                **flat,
                "status": "failed",
                "progress": 100,
                "type": kind,
                "description": description,
            }
        (clip,) = task.clips
        done = state == "succeeded"
        genre, mood = body.get("genre"), body.get("mood")
        flat.update(
            status="succeeded" if done else ("running" if progress >= 0.35 else "pending"),
            audio_url=f"{origin}/files/{clip.clip_id}.wav" if done else "",
            lyrics=clip.lyrics,
            duration=round(self.sim._clip_seconds(clip), 2) if done else None,
            genre=", ".join(genre) if isinstance(genre, list) else genre,
            mood=", ".join(mood) if isinstance(mood, list) else mood,
            gender=body.get("gender"),
            timbre=body.get("timbre"),
        )
        if done:
            flat["progress"] = 100
        return flat
