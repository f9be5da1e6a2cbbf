"""What each MusicAPI operation costs, in MusicAPI credits.

Defaults follow docs/musicapi/protocol.md §12, newest figure per operation (the 2026-10-07 live
column where it names the operation, then the 2026 site/docs column, then the sister site where
nothing else prices it). Prices move, so the owner overrides any entry with MUSICAPI_COSTS without a
release.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

DEFAULT_COSTS: Mapping[str, int] = MappingProxyType(
    {
        # /sonic/create, by task_type
        "create_music": 20,
        "extend_music": 15,
        "cover_music": 15,
        "persona_music": 15,
        "extend_upload_music": 15,
        "cover_upload_music": 15,
        "concat_music": 2,
        "remaster": 15,
        "add_vocals": 15,
        "add_instrumental": 15,
        # other Sonic endpoints
        "upload_extend": 17,  # upload 2 + extend 15, as docs/musicapi/protocol.md §1 implies
        "upload_cover": 17,
        "sample": 15,
        "mashup": 14,
        "replace_section": 10,
        "stems_basic": 30,
        "stems_full": 75,
        "wav": 2,
        "midi": 1,
        "bpm": 1,
        "vox": 1,
        "aligned_lyrics": 1,
        "upsample_tags": 1,
        "upload": 2,
        "create_voice": 4,
        "persona": 1,
        "lyrics": 10,
        # other families
        "producer_create": 10,
        "producer_extend": 12,
        "producer_replace": 12,
        "producer_cover": 12,
        "producer_upload": 2,
        "producer_download": 2,
        "nuro": 10,
        "riffusion": 12,
        "studio": 15,
    }
)


class CostTable:
    """The defaults with the owner's overrides applied."""

    def __init__(self, overrides: Mapping[str, int] | None = None) -> None:
        unknown = set(overrides or {}) - set(DEFAULT_COSTS)
        if unknown:
            raise KeyError(f"unknown operations in cost overrides: {sorted(unknown)}")
        self._costs = {**DEFAULT_COSTS, **(overrides or {})}

    def cost(self, operation: str) -> int:
        return self._costs[operation]

    def items(self) -> list[tuple[str, int]]:
        return sorted(self._costs.items())
