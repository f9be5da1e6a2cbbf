"""Simulated Producer, Nuro, Riffusion and Studio families (REFERENCE §6–§9), plus the SDK's
legacy ``/suno/*`` aliases (§3.19), each with its own poll shape on the shared timeline:

- Producer: one song; upper-case ``status`` PENDING → RUNNING → SUCCESS | FAILED.
- Nuro: one song of exactly ``duration`` seconds; flat body with ``progress`` 0–100; errors in the
  catalogue's ``{type, description}`` envelope (§10.2).
- Riffusion: two songs; the first is final (and alone in ``data``) before the second appears.
- Studio: ``data.status`` NOT_START → IN_PROGRESS → SUCCESS, string ``code``.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from .core import SimCore, inherited_magic
from .protocol import (
    DEFAULT_TEXTS,
    ENDPOINT_COSTS,
    MAGIC_HALF_FAIL,
    MAGIC_LANGUAGE,
    MAGIC_QUEUE_FULL,
    MSG_TASK_NOT_FOUND,
    NURO_ALGORITHM,
    NURO_LANGUAGE,
    NURO_NOT_FOUND,
    NURO_QUEUE_FULL,
    SimClip,
    SimTask,
    msg_continue_at,
    msg_not_for_uploads,
    msg_required,
    msg_upload_only,
    msg_within,
    text_of,
)
from .rules import (
    PRODUCER_RETIRED,
    Problem,
    check_audio_url,
    is_number,
    missing,
    producer_field,
    validate_nuro,
    validate_producer,
    validate_riffusion,
    validate_studio,
)

__all__ = ["FamilyRoutes"]

_PRODUCER_STATUS = {
    "not_ready": "PENDING",
    "pending": "PENDING",
    "running": "RUNNING",
    "streaming": "RUNNING",
    "succeeded": "SUCCESS",
    "failed": "FAILED",
}
_STUDIO_STATUS = {
    "not_ready": "NOT_START",
    "pending": "NOT_START",
    "running": "IN_PROGRESS",
    "streaming": "IN_PROGRESS",
    "succeeded": "SUCCESS",
}
# Riffusion's first song is final, and alone, until the second appears (§6).
RIFFUSION_FIRST_DONE_AT = 0.7
RIFFUSION_SECOND_AT = 0.85


def _edit_rules(
    kind: str, clip: SimClip, seconds: float, start: Any, end: Any, names: tuple[str, str]
) -> Problem | None:
    """Upload-type and time-window rules shared by Producer and Riffusion edits."""
    uploaded_type = "_upload_" in kind
    if uploaded_type and not clip.uploaded:
        return 400, msg_upload_only(kind)
    if not uploaded_type and clip.uploaded:
        return 400, msg_not_for_uploads(kind)
    start_name, end_name = names
    if kind.startswith("extend") and start is not None:
        if start_name == "continue_at":  # Riffusion, like Sonic: strictly inside the clip
            if not 0 < start < seconds:
                return 400, msg_continue_at(seconds)
        elif not 0 <= start <= seconds:  # Producer may extend from the very end
            return 400, msg_within(start_name, seconds)
    if kind.startswith("replace") and end is not None and end > seconds:
        return 400, msg_within(end_name, seconds)
    return None


class FamilyRoutes(SimCore):
    def _family_task(self, request: web.Request, family: str) -> SimTask | None:
        task = self.tasks.get(request.match_info["task_id"])
        if task is None or task.family != family:
            return None
        self.polls_by_task[task.task_id] = self.polls_by_task.get(task.task_id, 0) + 1
        return task

    def _not_found(self) -> web.Response:
        return self._error(self.config.not_found_status, MSG_TASK_NOT_FOUND)

    def _one_song(
        self,
        task: SimTask,
        *,
        title: str,
        tags: str,
        lyrics: str,
        mv: str,
        seconds: float,
        **extra: Any,
    ) -> SimClip:
        clip = self._make_clip(
            index=0,
            title=title,
            tags=tags,
            lyrics=lyrics,
            mv=mv,
            family=task.family,
            seconds=seconds,
            tone=self._tone_base(task),
            **extra,
        )
        return self._add_clip(task, clip)

    # ------------------------------------------------------------------ producer

    async def _handle_producer_create(self, request: web.Request) -> web.Response:
        body = await self._read_object(request) or {}
        kind = body.get("task_type", "create_music")
        if kind in PRODUCER_RETIRED or (
            kind in ("cover_music", "cover_upload_music")
            and "producer_cover" in self.config.retired
        ):
            return self._error(410, DEFAULT_TEXTS[410])
        problem = validate_producer(body)
        source: SimClip | None = None
        if problem is None and kind != "create_music":
            source, problem = self._source(body.get("clip_id"), "clip_id", "producer")
            if problem is None and source is not None:
                problem = _edit_rules(
                    kind,
                    source,
                    self._clip_seconds(source),
                    producer_field(body, "starts_at", "starts"),
                    producer_field(body, "ends_at", "ends"),
                    ("starts_at", "ends_at"),
                )
        text, refused = self._screen(body, problem)
        if refused is not None:
            return refused
        family_kind = kind.replace("_upload", "").removesuffix("_music")
        cost = ENDPOINT_COSTS[
            "producer_create_music" if family_kind == "create" else f"producer_{family_kind}"
        ]
        if not self._charge(cost):
            return self._no_credits()
        task = self._open_task(
            family="producer",
            kind=kind,
            body=body,
            cost=cost,
            text=f"{text} {inherited_magic(source)}",
        )
        lyrics = producer_field(body, "lyrics", "lyrics_text") or (source.lyrics if source else "")
        self._one_song(
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
        body = await self._read_object(request) or {}
        problem = check_audio_url(body.get("audio_url"), "audio_url")
        if problem is not None:
            return self._api_error(problem)
        cost = ENDPOINT_COSTS["producer_upload"]
        if not self._charge(cost):
            return self._no_credits()
        task = self._open_task(
            family="producer", kind="upload", body=body, cost=cost, text=text_of(body)
        )
        name = body["audio_url"].rstrip("/").rsplit("/", 1)[-1].rsplit(".", 1)[0] or "Upload"
        self._one_song(
            task,
            title=name.replace("-", " ").title(),
            tags="uploaded",
            lyrics="",
            mv="upload",
            seconds=self.config.audio_seconds,
            uploaded=True,
            magic=body["audio_url"],
        )
        return web.json_response({"message": "success", "task_id": task.task_id})

    async def _handle_producer_download(self, request: web.Request) -> web.Response:
        body = await self._read_object(request) or {}
        if missing(body.get("clip_id")):
            return self._error(400, msg_required("clip_id"))
        fmt = body.get("format", "mp3")
        if fmt not in ("mp3", "wav"):
            return self._error(400, "The 'format' field should be 'mp3' or 'wav'.")
        source, problem = self._source(body["clip_id"], "clip_id", "producer")
        if problem is not None:
            return self._api_error(problem)
        assert source is not None
        cost = ENDPOINT_COSTS["producer_download"]
        if not self._charge(cost):
            return self._no_credits()
        task = self._open_task(
            family="producer", kind="download", body=body, cost=cost, text=inherited_magic(source)
        )
        task.extra["file"] = f"{source.clip_id}.{fmt}"
        return web.json_response({"message": "success", "task_id": task.task_id})

    async def _handle_producer_task(self, request: web.Request) -> web.Response:
        task = self._family_task(request, "producer")
        if task is None:
            return self._not_found()
        progress, state = task.progress(), task.state
        status = _PRODUCER_STATUS[state]
        if state == "failed":
            body = {"code": 200, "status": status, "message": task.fail_message, "data": []}
            return web.json_response(body)
        data = self._producer_data(self._origin(request), task, progress)
        return web.json_response(
            {"code": 200, "status": status, "message": "success", "data": data}
        )

    def _producer_data(self, origin: str, task: SimTask, progress: float) -> list[dict[str, Any]]:
        """The ``data`` of a Producer poll (and of its webhooks)."""
        if task.task_type == "download":
            # The SDK's reading of a download result: bare ``[{audio_url}]`` (OPEN-QUESTIONS E.25).
            if task.state != "succeeded":
                return []
            return [{"audio_url": f"{origin}/files/{task.extra['file']}"}]
        return [
            self._producer_json(origin, task, c, task.clip_state(c, progress)) for c in task.clips
        ]

    def _producer_json(
        self, origin: str, task: SimTask, clip: SimClip, state: str
    ) -> dict[str, Any]:
        base = self._clip_json(origin, clip, state)
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
            "duration": round(self._clip_seconds(clip), 2) if final else None,
            "state": state if state != "not_ready" else "pending",
        }

    # ------------------------------------------------------------------ nuro

    async def _handle_nuro_create(self, request: web.Request) -> web.Response:
        body = await self._read_object(request)
        if body is None:
            return self._nuro_error(400, ("bad_request", "The request body must be a JSON object."))
        text = text_of(body)
        if MAGIC_QUEUE_FULL in text:
            return self._nuro_error(403, NURO_QUEUE_FULL)
        if MAGIC_LANGUAGE in text:
            return self._nuro_error(400, NURO_LANGUAGE)
        problem = validate_nuro(body, self.config.nuro_segments_must_sum)
        if problem is not None:
            return self._nuro_error(*problem)
        cost = ENDPOINT_COSTS["nuro"]
        if not self._charge(cost):
            return self._no_credits(nuro=True)
        task = self._open_task(
            family="nuro", kind=f"nuro_{body['type']}", body=body, cost=cost, text=text
        )
        segments = body.get("segments") or []
        duration = body.get("duration") or sum(s["duration"] for s in segments) or 60
        genre = body.get("genre")
        self._one_song(
            task,
            title="",
            tags=", ".join(genre) if isinstance(genre, list) else str(genre or ""),
            lyrics=body.get("lyrics", ""),
            mv="nuro",
            seconds=float(duration),  # Nuro's point: the exact duration asked for
        )
        return web.json_response({"message": "success", "task_id": task.task_id})

    async def _handle_nuro_task(self, request: web.Request) -> web.Response:
        task = self._family_task(request, "nuro")
        if task is None:
            return self._nuro_error(404, NURO_NOT_FOUND)
        return web.json_response(self._nuro_flat(self._origin(request), task))

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
            duration=round(self._clip_seconds(clip), 2) if done else None,
            genre=", ".join(genre) if isinstance(genre, list) else genre,
            mood=", ".join(mood) if isinstance(mood, list) else mood,
            gender=body.get("gender"),
            timbre=body.get("timbre"),
        )
        if done:
            flat["progress"] = 100
        return flat

    # ------------------------------------------------------------------ riffusion

    async def _handle_riffusion_create(self, request: web.Request) -> web.Response:
        body = await self._read_object(request) or {}
        problem = validate_riffusion(body)
        kind = body.get("task_type", "create_music")
        source: SimClip | None = None
        if problem is None and kind != "create_music":
            source, problem = self._source(
                body.get("continue_clip_id"), "continue_clip_id", "riffusion"
            )
            if problem is None and source is not None:
                problem = _edit_rules(
                    kind,
                    source,
                    self._clip_seconds(source),
                    body.get("continue_at"),
                    body.get("replace_end_time"),
                    ("continue_at", "replace_end_time"),
                )
        text, refused = self._screen(body, problem)
        if refused is not None:
            return refused
        cost = ENDPOINT_COSTS["riffusion"]
        if not self._charge(cost):
            return self._no_credits()
        task = self._open_task(
            family="riffusion",
            kind=kind,
            body=body,
            cost=cost,
            text=f"{text} {inherited_magic(source)}",
        )
        for index in range(2):
            clip = self._make_clip(
                index=index,
                title=body.get("title") or "Riffusion Song",
                tags=body.get("sound") or "",
                lyrics=body.get("lyrics") or "",
                mv=body.get("mv") or "FUZZ-1.1",
                family="riffusion",
                tone=self._tone_base(task),
                magic=text,
                finishes_at=RIFFUSION_FIRST_DONE_AT if index == 0 else 1.0,
                appears_at=RIFFUSION_SECOND_AT if index == 1 else 0.0,
                will_fail=index == 1 and MAGIC_HALF_FAIL in text,
            )
            self._add_clip(task, clip)
        return web.json_response({"message": "success", "task_id": task.task_id})

    async def _handle_riffusion_upload(self, request: web.Request) -> web.Response:
        body = await self._read_object(request) or {}
        problem = check_audio_url(body.get("url"))
        if problem is not None:
            return self._api_error(problem)
        if not self._charge(ENDPOINT_COSTS["riffusion_upload"]):
            return self._no_credits()
        await self._sleep(self.config.upload_time)
        clip = self._register_upload(body["url"], "riffusion")
        return web.json_response({"code": 200, "clip_id": clip.clip_id, "message": "success"})

    async def _handle_riffusion_task(self, request: web.Request) -> web.Response:
        task = self._family_task(request, "riffusion")
        if task is None:
            return self._not_found()
        progress = task.progress()
        if progress >= 1.0 and task.fail_message is not None and self.config.failure_mode == "type":
            return web.json_response({"type": "failed", "error": task.fail_message})
        data = []
        for clip in task.clips:
            if not task.visible(clip, progress):
                continue
            state = task.clip_state(clip, progress)
            base = self._clip_json(self._origin(request), clip, state)
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
                    "duration": round(self._clip_seconds(clip), 2) if final else 0,
                    "timestamp": None,
                    "state": state,
                }
            )
        return web.json_response({"code": 200, "data": data, "message": "success"})

    # ------------------------------------------------------------------ studio

    async def _handle_studio_create(self, request: web.Request) -> web.Response:
        body = await self._read_object(request) or {}
        problem = validate_studio(body)
        config = body.get("config") or {}
        source: SimClip | None = None
        if problem is None and config.get("mode") in ("precede", "continuation"):
            source, problem = self._source(
                config["source"]["song_id"], "config.source.song_id", "studio"
            )
        text, refused = self._screen(body, problem)
        if refused is not None:
            return refused
        cost = ENDPOINT_COSTS["studio"] * (2 if body.get("model_type") == "studio130-v1.5" else 1)
        if not self._charge(cost):
            return self._no_credits()
        task = self._open_task(
            family="studio",
            kind="studio",
            body=body,
            cost=cost,
            text=f"{text} {inherited_magic(source)}",
        )
        task.extra["submitted"] = int(time.time())
        tags = [t.strip() for t in str(body.get("prompt") or "studio").split(",") if t.strip()]
        for index in range(2):
            clip = self._make_clip(
                index=index,
                title=f"Studio Song v{index + 1}",
                tags=", ".join(tags),
                lyrics=""
                if body.get("lyrics_type") == "instrumental"
                else body.get("lyrics") or "",
                mv=body.get("model_type") or "studio32-v1.5",
                family="studio",
                tone=self._tone_base(task),
                magic=text,
                will_fail=index == 1 and MAGIC_HALF_FAIL in text,
            )
            self._add_clip(task, clip)
        return web.json_response({"code": 200, "data": task.task_id})

    async def _handle_studio_task(self, request: web.Request) -> web.Response:
        task = self._family_task(request, "studio")
        if task is None:
            return self._not_found()
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
            origin = self._origin(request)
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
                    "duration": round(self._clip_seconds(clip), 2),
                    "created_at": clip.created_at,
                    "finished": True,
                }
                for clip in task.clips
            ]
        # Note the *string* code, unlike every other family (§2.4).
        return web.json_response({"code": "success", "message": "", "data": data})

    # ------------------------------------------------------------------ legacy /suno aliases

    async def _handle_suno_make_lyrics(self, request: web.Request) -> web.Response:
        body = await self._read_object(request) or {}
        prompt = body.get("prompt")
        if missing(prompt) or not isinstance(prompt, str):
            return self._error(400, msg_required("prompt"))
        if len(prompt) >= 120:
            return self._error(400, "The prompt character length should be less than 120.")
        task_id = str(self.new_id())
        self._suno_lyrics[task_id] = {
            "task_id": task_id,
            "status": "complete",
            "title": prompt.strip().title()[:60],
            "text": f"[Verse]\nA song about {prompt.strip()}\n\n[Chorus]\nSing it, simulator",
        }
        return web.json_response({"code": 200, "data": {"task_id": task_id}, "message": "success"})

    async def _handle_suno_get_lyrics(self, request: web.Request) -> web.Response:
        found = self._suno_lyrics.get(request.match_info["task_id"])
        if found is None:
            return self._not_found()
        return web.json_response({"code": 200, "data": found, "message": "success"})

    async def _handle_suno_get_song(self, request: web.Request) -> web.Response:
        body = await self._read_object(request) or {}
        link = body.get("share_link")
        if missing(link) or not isinstance(link, str):
            return self._error(400, msg_required("share_link"))
        clip, problem = self._source(link.rstrip("/").rsplit("/", 1)[-1], "share_link")
        if problem is not None or clip is None:
            return self._error(404, "song not found.")
        origin = self._origin(request)
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
