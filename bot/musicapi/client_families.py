"""Producer, Nuro, Riffusion and Studio endpoints (REFERENCE §6–§9), mixed into
``MusicAPIClient``. Each family polls on its own path with its own shape; all of them come back
as ``TaskStatus`` (see ``families/``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import families
from .errors import MalformedResponseError
from .models import TaskStatus
from .request_checks import check_choice, is_missing
from .requests_legacy import RiffusionCreate, StudioCreate
from .requests_nuro import NuroBgm, NuroVocal
from .requests_producer import (
    PRODUCER_COVER_TYPES,
    PRODUCER_DOWNLOAD_FORMATS,
    PRODUCER_EXTEND_TYPES,
    PRODUCER_REPLACE_TYPES,
    ProducerCreate,
)
from .transport import Transport

__all__ = ["FamiliesMixin"]


def _webhook(body: dict[str, Any], url: str | None, secret: str | None) -> dict[str, Any]:
    if url is not None:
        body["webhook_url"] = url
    if secret is not None:
        body["webhook_secret"] = secret
    return body


def _expect_types(req: ProducerCreate, allowed: tuple[str, ...], method: str) -> None:
    if req.task_type not in allowed:
        raise ValueError(f"{method} needs task_type {' or '.join(allowed)}; got {req.task_type}")


class FamiliesMixin(Transport):
    # ------------------------------------------------------------------ producer

    async def producer_create(self, req: ProducerCreate) -> str:
        """``POST /producer/create`` for any Producer task type; poll family ``"producer"``."""
        return await self._submit("/producer/create", req.to_body())

    async def producer_extend(self, req: ProducerCreate) -> str:
        _expect_types(req, PRODUCER_EXTEND_TYPES, "producer_extend")
        return await self.producer_create(req)

    async def producer_replace(self, req: ProducerCreate) -> str:
        _expect_types(req, PRODUCER_REPLACE_TYPES, "producer_replace")
        return await self.producer_create(req)

    async def producer_cover(self, req: ProducerCreate) -> str:
        """Cover was re-enabled 2026-05-20 per the docs; a server that still retires it answers
        410, raised as ``GoneError`` (OPEN-QUESTIONS E.24)."""
        _expect_types(req, PRODUCER_COVER_TYPES, "producer_cover")
        return await self.producer_create(req)

    async def producer_upload(
        self,
        audio_url: str,
        *,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
    ) -> str:
        """``POST /producer/upload`` (async): the finished task's clip is the upload, for the
        Producer ``*_upload_music`` task types."""
        if is_missing(audio_url):
            raise ValueError("audio_url must not be empty")
        body = _webhook({"audio_url": audio_url}, webhook_url, webhook_secret)
        return await self._submit("/producer/upload", body, upload=True)

    async def producer_download(
        self,
        clip_id: str,
        format: str = "mp3",  # the API's own field name
        *,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
    ) -> str:
        """``POST /producer/download`` (async). The finished task's file URL is in
        ``TaskStatus.files`` (and also a clip when the server names the clip)."""
        if is_missing(clip_id):
            raise ValueError("clip_id must not be empty")
        check_choice("format", format, PRODUCER_DOWNLOAD_FORMATS)
        body = _webhook({"clip_id": clip_id, "format": format}, webhook_url, webhook_secret)
        return await self._submit("/producer/download", body)

    async def get_producer_task(self, task_id: str) -> TaskStatus:
        spec = families.producer.SPEC
        return await self._poll_with(spec.poll_path, task_id, spec.parse_result)

    # ------------------------------------------------------------------ nuro

    async def nuro_vocal(self, req: NuroVocal) -> str:
        """``POST /nuro/create`` with ``type: vocal``; poll family ``"nuro"``."""
        return await self._submit("/nuro/create", req.to_body())

    async def nuro_bgm(self, req: NuroBgm) -> str:
        """``POST /nuro/create`` with ``type: bgm`` (v1, or v2.0 with segments)."""
        return await self._submit("/nuro/create", req.to_body())

    async def get_nuro_task(self, task_id: str) -> TaskStatus:
        """Nuro's flat poll; ``TaskStatus.progress`` is its 0–100 ``progress``."""
        spec = families.nuro.SPEC
        return await self._poll_with(spec.poll_path, task_id, spec.parse_result)

    # ------------------------------------------------------------------ riffusion (deprecated)

    async def riffusion_create(self, req: RiffusionCreate) -> str:
        return await self._submit("/riffusion/create", req.to_body())

    async def riffusion_upload(self, url: str) -> str:
        """``POST /riffusion/upload`` (sync) → ``clip_id`` for the ``*_upload_*`` task types."""
        if is_missing(url):
            raise ValueError("url must not be empty")

        def clip_id(data: Any) -> str:
            value = data.get("clip_id") if isinstance(data, Mapping) else None
            if not isinstance(value, str) or not value.strip():
                raise MalformedResponseError("MusicAPI sent an upload result without 'clip_id'.")
            return value

        return await self._call(
            "tools", "POST", "/riffusion/upload", {"url": url}, clip_id, upload=True
        )

    async def get_riffusion_task(self, task_id: str) -> TaskStatus:
        """Two songs per task: not done while only one is present."""
        spec = families.riffusion.SPEC
        return await self._poll_with(spec.poll_path, task_id, spec.parse_result)

    # ------------------------------------------------------------------ studio (unavailable)

    async def studio_create(self, req: StudioCreate) -> str:
        """``POST /studio/create`` → ``{code, data: "<task_id>"}``."""
        return await self._submit("/studio/create", req.to_body(), key="data")

    async def get_studio_task(self, task_id: str) -> TaskStatus:
        spec = families.studio.SPEC
        return await self._poll_with(spec.poll_path, task_id, spec.parse_result)
