"""The simulated Producer family (docs/musicapi/protocol.md §7): one song; upper-case ``status``
PENDING → RUNNING → SUCCESS | FAILED.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..core import API, SimCore, inherited_magic
from ..protocol import (
    DEFAULT_TEXTS,
    ENDPOINT_COSTS,
    SimClip,
    SimTask,
    msg_required,
    text_of,
)
from ..rules import (
    PRODUCER_RETIRED,
    check_audio_url,
    edit_rules,
    is_number,
    missing,
    producer_field,
    validate_producer,
)
from . import Route, task_routes

__all__ = ["ProducerHandlers"]

_PRODUCER_STATUS = {
    "not_ready": "PENDING",
    "pending": "PENDING",
    "running": "RUNNING",
    "streaming": "RUNNING",
    "succeeded": "SUCCESS",
    "failed": "FAILED",
}


class ProducerHandlers:
    """Route handlers over the simulator's shared state."""

    def __init__(self, sim: SimCore) -> None:
        self.sim = sim

    def routes(self) -> list[Route]:
        return [
            *task_routes(
                API, "producer", self._handle_producer_task, self.sim._handle_missing_task_id
            ),
            ("POST", f"{API}/producer/create", self._handle_producer_create),
            ("POST", f"{API}/producer/upload", self._handle_producer_upload),
            ("POST", f"{API}/producer/download", self._handle_producer_download),
        ]

    # ------------------------------------------------------------------ producer

    async def _handle_producer_create(self, request: web.Request) -> web.Response:
        body = await self.sim._read_object(request) or {}
        kind = body.get("task_type", "create_music")
        if kind in PRODUCER_RETIRED or (
            kind in ("cover_music", "cover_upload_music")
            and "producer_cover" in self.sim.config.retired
        ):
            return self.sim._error(410, DEFAULT_TEXTS[410])
        problem = validate_producer(body)
        source: SimClip | None = None
        if problem is None and kind != "create_music":
            source, problem = self.sim._source(body.get("clip_id"), "clip_id", "producer")
            if problem is None and source is not None:
                problem = edit_rules(
                    kind,
                    source,
                    self.sim._clip_seconds(source),
                    producer_field(body, "starts_at", "starts"),
                    producer_field(body, "ends_at", "ends"),
                    ("starts_at", "ends_at"),
                )
        text, refused = self.sim._screen(body, problem)
        if refused is not None:
            return refused
        family_kind = kind.replace("_upload", "").removesuffix("_music")
        cost = ENDPOINT_COSTS[
            "producer_create_music" if family_kind == "create" else f"producer_{family_kind}"
        ]
        if not self.sim._charge(cost):
            return self.sim._no_credits()
        task = self.sim._open_task(
            family="producer",
            kind=kind,
            body=body,
            cost=cost,
            text=f"{text} {inherited_magic(source)}",
        )
        lyrics = producer_field(body, "lyrics", "lyrics_text") or (source.lyrics if source else "")
        self.sim._one_song(
            task,
            title=body.get("title") or (source.title if source else "Producer Track"),
            tags=body.get("sound") or (source.tags if source else ""),
            lyrics=lyrics,
            mv=str(body.get("mv") or "lyria-3-pro"),
            seconds=float(body["length"]) if is_number(body.get("length")) else 0.0,
            magic=text,
        )
        task.extra["seed"] = body.get("seed")
        return web.json_response({"message": "success", "task_id": task.task_id})

    async def _handle_producer_upload(self, request: web.Request) -> web.Response:
        body = await self.sim._read_object(request) or {}
        problem = check_audio_url(body.get("audio_url"), "audio_url")
        if problem is not None:
            return self.sim._api_error(problem)
        cost = ENDPOINT_COSTS["producer_upload"]
        if not self.sim._charge(cost):
            return self.sim._no_credits()
        task = self.sim._open_task(
            family="producer", kind="upload", body=body, cost=cost, text=text_of(body)
        )
        name = body["audio_url"].rstrip("/").rsplit("/", 1)[-1].rsplit(".", 1)[0] or "Upload"
        self.sim._one_song(
            task,
            title=name.replace("-", " ").title(),
            tags="uploaded",
            lyrics="",
            mv="upload",
            seconds=self.sim.config.audio_seconds,
            uploaded=True,
            magic=body["audio_url"],
        )
        return web.json_response({"message": "success", "task_id": task.task_id})

    async def _handle_producer_download(self, request: web.Request) -> web.Response:
        body = await self.sim._read_object(request) or {}
        if missing(body.get("clip_id")):
            return self.sim._error(400, msg_required("clip_id"))
        fmt = body.get("format", "mp3")
        if fmt not in ("mp3", "wav"):
            return self.sim._error(400, "The 'format' field should be 'mp3' or 'wav'.")
        source, problem = self.sim._source(body["clip_id"], "clip_id", "producer")
        if problem is not None:
            return self.sim._api_error(problem)
        assert source is not None
        cost = ENDPOINT_COSTS["producer_download"]
        if not self.sim._charge(cost):
            return self.sim._no_credits()
        task = self.sim._open_task(
            family="producer", kind="download", body=body, cost=cost, text=inherited_magic(source)
        )
        task.extra["file"] = f"{source.clip_id}.{fmt}"
        return web.json_response({"message": "success", "task_id": task.task_id})

    async def _handle_producer_task(self, request: web.Request) -> web.Response:
        task = self.sim._family_task(request, "producer")
        if task is None:
            return self.sim._not_found()
        progress, state = task.progress(), task.state
        status = _PRODUCER_STATUS[state]
        if state == "failed":
            body = {"code": 200, "status": status, "message": task.fail_message, "data": []}
            return web.json_response(body)
        data = self._producer_data(self.sim._origin(request), task, progress)
        return web.json_response(
            {"code": 200, "status": status, "message": "success", "data": data}
        )

    def _producer_data(self, origin: str, task: SimTask, progress: float) -> list[dict[str, Any]]:
        """The ``data`` of a Producer poll (and of its webhooks)."""
        if task.task_type == "download":
            # The SDK's reading of a download result: bare ``[{audio_url}]``
            # (docs/musicapi/open-questions.md E.25).
            if task.state != "succeeded":
                return []
            return [{"audio_url": f"{origin}/files/{task.extra['file']}"}]
        return [
            self._producer_json(origin, task, c, task.clip_state(c, progress)) for c in task.clips
        ]

    def _producer_json(
        self, origin: str, task: SimTask, clip: SimClip, state: str
    ) -> dict[str, Any]:
        base = self.sim._clip_json(origin, clip, state)
        final = state == "succeeded"
        return {
            "clip_id": clip.clip_id,
            "title": clip.title,
            "sound": clip.tags or None,
            "lyrics": clip.lyrics,
            "audio_url": base["audio_url"] if final else "",
            "wav_url": base["audio_url"] if final else "",
            "image_url": base["image_url"] if final else "",
            "video_url": None,
            "created_at": clip.created_at,
            "mv": clip.mv,
            "seed": task.extra.get("seed"),
            "duration": round(self.sim._clip_seconds(clip), 2) if final else None,
            "state": state if state != "not_ready" else "pending",
        }
