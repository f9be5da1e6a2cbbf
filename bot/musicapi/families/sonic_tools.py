"""Sonic's synchronous utilities (docs/musicapi/protocol.md §3.3, §3.6–§3.11, §3.14), mixed into
``MusicAPIClient``: persona, BPM, VOX, WAV, MIDI, aligned lyrics, upsample-tags and upload. They
answer at once with typed results; the task-creating Sonic routes are in ``sonic.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import MalformedResponseError, NotReadyError
from ..models import PersonaResult
from ..request_checks import check_window, is_missing
from ..results import AlignedWord, BpmResult, MidiResult, VoxResult, data_object
from ..transport import Transport
from .sonic import MAX_VOX_WINDOW_S, PersonaCreate, clip_body

__all__ = ["SonicToolEndpoints"]


def _text_field(body: Any, key: str, what: str) -> str:
    value = body.get(key) if isinstance(body, Mapping) else None
    if not isinstance(value, str) or not value.strip():
        raise MalformedResponseError(f"MusicAPI sent a {what} result without '{key}'.")
    return value


class SonicToolEndpoints(Transport):
    """Sonic's sync utilities, mixed into ``MusicAPIClient``."""

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
            "tools", "POST", "/sonic/bpm", clip_body(clip_id), BpmResult.from_api
        )

    async def vox(
        self, clip_id: str, start: float | None = None, end: float | None = None
    ) -> VoxResult:
        """``POST /sonic/vox`` (§3.7): a vocal segment of at most 30 s, for ``create_persona``."""
        body = clip_body(clip_id)
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
            clip_body(clip_id),
            lambda data: _text_field(data_object(data, "WAV"), "wav_url", "WAV"),
        )

    async def midi(self, clip_id: str) -> MidiResult:
        """``POST /sonic/midi`` (§3.9). Raises ``NotReadyError`` on HTTP 202 ("not ready yet"):
        ask again later; this method never waits or retries by itself."""
        status, data, request_id = await self._request(
            "tools", "POST", "/sonic/midi", clip_body(clip_id), allow_202=True
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
            clip_body(clip_id),
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
