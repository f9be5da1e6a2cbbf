"""Async MusicAPI client: one method per endpoint, typed results, typed errors.

The transport (retries, backoff, ``Retry-After``, request-id logging, key redaction) lives in
``transport.py``; each family's endpoint methods live in its module under ``families/`` and all
end up on ``MusicAPIClient``.

Polling contract: every task-creating method returns a task id that belongs to one *family*
(``bot.musicapi.families``). Store the family with the id and call ``poll(family, task_id)``;
it always returns a ``TaskStatus`` (``state`` pending / running / streaming / succeeded /
failed, ``done``, ``clips``, ``failure``, and ``progress`` / ``persona`` / ``files`` /
``parts`` where the family has them), and raises the same ``MusicAPIError`` subclasses for
every family.

============================== ======================================================
family                         task-creating methods
============================== ======================================================
``"sonic"``                    create_music, upload_extend, upload_cover, sample, mashup,
                               stems_basic, stems_full, replace_section, create_voice
``"producer"``                 producer_create / _extend / _replace / _cover, producer_upload,
                               producer_download
``"nuro"``                     nuro_vocal, nuro_bgm
``"riffusion"``                riffusion_create
``"studio"``                   studio_create
============================== ======================================================
"""

from __future__ import annotations

from . import families
from .families.nuro import NuroEndpoints
from .families.producer import ProducerEndpoints
from .families.riffusion import RiffusionEndpoints
from .families.sonic import SonicEndpoints
from .families.sonic_tools import SonicToolEndpoints
from .families.studio import StudioEndpoints
from .models import Credits, TaskStatus
from .transport import REQUEST_ID_HEADERS

__all__ = ["REQUEST_ID_HEADERS", "MusicAPIClient"]


class MusicAPIClient(
    SonicEndpoints,
    SonicToolEndpoints,
    ProducerEndpoints,
    NuroEndpoints,
    RiffusionEndpoints,
    StudioEndpoints,
):
    """Talks to ``{base_url}/api/v1/...`` over a session the caller owns."""

    async def get_credits(self) -> Credits:
        return await self._call("credits", "GET", "/get-credits", None, Credits.from_api)

    async def poll(self, family: str, task_id: str) -> TaskStatus:
        """One poll of ``task_id`` on its family's poll path (``families.get(family)``).

        Raises ``ValueError`` for an unknown family, before any request: a job stored with a
        bad family is a bug to surface, not a task to give up on."""
        spec = families.get(family)
        return await self._poll_with(spec.poll_path, task_id, spec.parse_result)
