"""Sonic endpoints beyond create/poll (REFERENCE §3.2–§3.15), mixed into ``MusicAPIClient``.

Async ones return the ``task_id`` to poll with ``get_task`` (family ``"sonic"``); sync ones
return typed results. Upstream refusals (upload rejections, moderation, credits) arrive as the
usual ``MusicAPIError`` subclasses with the server's text passed through.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from .errors import MalformedResponseError, NotReadyError
from .models import PersonaResult
from .request_checks import check_window, is_missing
from .requests_sonic import (
    MAX_VOX_WINDOW_S,
    Mashup,
    PersonaCreate,
    ReplaceSection,
    Sample,
    UploadCover,
    UploadExtend,
)
from .results import (
    AlignedWord,
    BpmResult,
    MidiResult,
    StepsResult,
    VoxResult,
    data_object,
)
from .transport import Transport

__all__ = ["SonicToolsMixin"]

log = logging.getLogger("bot.musicapi")


def _clip_body(clip_id: str) -> dict[str, Any]:
    if is_missing(clip_id):
        raise ValueError("clip_id must not be empty")
    return {"clip_id": clip_id}


def _text_field(body: Any, key: str, what: str) -> str:
    value = body.get(key) if isinstance(body, Mapping) else None
    if not isinstance(value, str) or not value.strip():
        raise MalformedResponseError(f"MusicAPI sent a {what} result without '{key}'.")
    return value


class SonicToolsMixin(Transport):
    # ------------------------------------------------------------------ async (task ids)

    async def _steps(self, path: str, body: dict[str, Any]) -> StepsResult:
        status, data, request_id = await self._request(
            "create", "POST", path, body, call_timeout=self._upload_timeout
        )
        return StepsResult.from_api(data, status=status, request_id=request_id)

    async def upload_extend(self, req: UploadExtend) -> StepsResult:
        """``POST /sonic/upload-extend``: upload + extend in one call (§3.2). Raises
        ``StepFailedError`` (with the step's own error text) when no task was started."""
        return await self._steps("/sonic/upload-extend", req.to_body())

    async def upload_cover(self, req: UploadCover) -> StepsResult:
        """``POST /sonic/upload-cover``: upload + cover in one call (§3.2)."""
        return await self._steps("/sonic/upload-cover", req.to_body())

    async def sample(self, req: Sample) -> StepsResult:
        """``POST /sonic/sample`` (§3.4): steps ``upload`` (only with ``url``) and ``sample``."""
        return await self._steps("/sonic/sample", req.to_body())

    async def mashup(self, req: Mashup) -> str:
        """``POST /sonic/mashup``: blend exactly two clips (§3.5)."""
        return await self._submit("/sonic/mashup", req.to_body())

    async def stems_basic(self, clip_id: str) -> str:
        """``POST /sonic/stems/basic``: vocals + instrumental; each stem is one clip of the
        finished task, named by its ``title`` (§3.12)."""
        return await self._submit("/sonic/stems/basic", _clip_body(clip_id))

    async def stems_full(self, clip_id: str) -> str:
        """``POST /sonic/stems/full``: one clip per instrument stem (§3.12)."""
        return await self._submit("/sonic/stems/full", _clip_body(clip_id))

    async def replace_section(self, req: ReplaceSection) -> str:
        """``POST /sonic/replace-section`` (§3.13). With ``auto_concat`` the finished task's
        ``clips`` are the stitched full songs and ``parts`` the replaced sections."""
        return await self._submit("/sonic/replace-section", req.to_body())

    async def create_voice(
        self,
        audio_url: str,
        *,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
    ) -> str:
        """``POST /sonic/create-voice`` (§3.15): clone a voice from a solo recording (> 10 s).
        The finished task has no clips; its ``TaskStatus.persona`` holds the persona id."""
        if is_missing(audio_url):
            raise ValueError("audio_url must not be empty")
        body: dict[str, Any] = {"audio_url": audio_url}
        if webhook_url is not None:
            body["webhook_url"] = webhook_url
        if webhook_secret is not None:
            body["webhook_secret"] = webhook_secret
        status, data, request_id = await self._request(
            "create", "POST", "/sonic/create-voice", body, call_timeout=self._upload_timeout
        )
        warning = data.get("warning") if isinstance(data, Mapping) else None
        if isinstance(warning, str) and warning.strip():
            # Optional and undocumented in wording ([sdk]); worth a line for whoever debugs it.
            log.info("MusicAPI create-voice warning (request id %s): %s", request_id, warning)
        task_id = data.get("task_id") if isinstance(data, Mapping) else None
        if not isinstance(task_id, str) or not task_id.strip():
            raise MalformedResponseError(
                "MusicAPI accepted the request but sent no task id.",
                status=status,
                request_id=request_id,
            )
        return task_id

    # ------------------------------------------------------------------ sync utilities

    async def create_persona(self, req: PersonaCreate) -> PersonaResult:
        """``POST /sonic/persona`` (sync, §3.3); use the id with ``task_type=persona_music``."""
        body = req.to_body()
        return await self._call(
            "tools",
            "POST",
            "/sonic/persona",
            body,
            lambda data: PersonaResult.from_api(data, name=req.name),
        )

    async def bpm(self, clip_id: str) -> BpmResult:
        """``POST /sonic/bpm`` (§3.6)."""
        return await self._call(
            "tools", "POST", "/sonic/bpm", _clip_body(clip_id), BpmResult.from_api
        )

    async def vox(
        self, clip_id: str, start: float | None = None, end: float | None = None
    ) -> VoxResult:
        """``POST /sonic/vox`` (§3.7): a vocal segment of at most 30 s, for ``create_persona``."""
        body = _clip_body(clip_id)
        check_window("vocal_start_s", start, "vocal_end_s", end)
        if start is not None and end is not None and end - start > MAX_VOX_WINDOW_S:
            raise ValueError(f"the vox window must be at most {MAX_VOX_WINDOW_S:g} s")
        if start is not None:
            body["vocal_start_s"] = start
        if end is not None:
            body["vocal_end_s"] = end
        return await self._call("tools", "POST", "/sonic/vox", body, VoxResult.from_api)

    async def wav(self, clip_id: str) -> str:
        """``POST /sonic/wav`` (§3.8) → the WAV rendition's URL."""
        return await self._call(
            "tools",
            "POST",
            "/sonic/wav",
            _clip_body(clip_id),
            lambda data: _text_field(data_object(data, "WAV"), "wav_url", "WAV"),
        )

    async def midi(self, clip_id: str) -> MidiResult:
        """``POST /sonic/midi`` (§3.9). Raises ``NotReadyError`` on HTTP 202 ("not ready yet"):
        ask again later; this method never waits or retries by itself."""
        status, data, request_id = await self._request(
            "tools", "POST", "/sonic/midi", _clip_body(clip_id), allow_202=True
        )
        if status == 202:
            raise NotReadyError(
                "The MIDI file is not ready yet; try again later.",
                status=status,
                request_id=request_id,
            )
        try:
            return MidiResult.from_api(data)
        except MalformedResponseError as exc:
            exc.status, exc.request_id = status, request_id
            raise

    async def aligned_lyrics(self, clip_id: str) -> list[AlignedWord]:
        """``POST /sonic/aligned-lyrics`` (§3.10): word timings; repeat calls are free."""
        return await self._call(
            "tools",
            "POST",
            "/sonic/aligned-lyrics",
            _clip_body(clip_id),
            AlignedWord.list_from_api,
        )

    async def upsample_tags(self, tags: str) -> str:
        """``POST /sonic/upsample-tags`` (§3.11): a short style string made richer."""
        if is_missing(tags):
            raise ValueError("tags must not be empty")
        return await self._call(
            "tools",
            "POST",
            "/sonic/upsample-tags",
            {"tags": tags},
            lambda data: _text_field(
                data_object(data, "upsample-tags"), "upsampled_tags", "upsample-tags"
            ),
        )

    async def upload(self, url: str) -> str:
        """``POST /sonic/upload`` (§3.14) → the new ``clip_id``. Synchronous and slow (~20 s),
        so it gets the client's ``upload_timeout``. Use the clip with the ``*_upload_music``
        task types and add_vocals / add_instrumental."""
        if is_missing(url):
            raise ValueError("url must not be empty")
        return await self._call(
            "tools",
            "POST",
            "/sonic/upload",
            {"url": url},
            lambda data: _text_field(data, "clip_id", "upload"),
            upload=True,
        )
