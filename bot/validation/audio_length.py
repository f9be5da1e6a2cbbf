"""The length of an uploaded audio file, read from its bytes with mutagen.

A follow-up step of `/song upload` (`extend at:`, `add-instrumental end:`) must fit the file,
and that must be known before the upload is paid for. mutagen reads the length from what each
container states (an MP3's Xing/VBRI header or its bitrate and size, FLAC's STREAMINFO, the last
Ogg page's granule position, an MP4's `mdhd`) without decoding the audio.

The file stays on Discord's CDN: mutagen parses a sparse view of it made of the byte ranges
fetched so far. When it reads a range not fetched yet, that range is fetched and the parse runs
again, within a few rounds and a byte budget, so a file with its index at the end (an Ogg's last
page, an MP4 whose `moov` follows the audio) costs two small reads, not a download.
"""

from __future__ import annotations

import io
import math
from collections.abc import Awaitable, Callable

from mutagen import FileType, MutagenError
from mutagen.aac import AAC
from mutagen.flac import FLAC
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4
from mutagen.oggflac import OggFLAC
from mutagen.oggopus import OggOpus
from mutagen.oggspeex import OggSpeex
from mutagen.oggvorbis import OggVorbis

FETCH_MIN_BYTES = 64 * 1024  # one round reads at least this much (a page, an atom, frames)
FETCH_BUDGET_BYTES = 8 * 1024 * 1024  # an ID3 tag or FLAC picture can be a few MiB of art
FETCH_ROUNDS = 6

# Which mutagen readers fit each sniffed format. webm (Matroska) has none: its length stays
# unknown and follow-up times are bounded by the longest upload.
_OGG: list[type[FileType]] = [OggVorbis, OggOpus, OggFLAC, OggSpeex]
_READERS: dict[str, list[type[FileType]]] = {
    "mp3": [MP3], "ogg": _OGG, "flac": [FLAC], "m4a": [MP4],
}  # fmt: skip

Fetch = Callable[[int, int], Awaitable[bytes]]


class NotParsable(Exception):
    """The bytes claim a format (by their magic number) that mutagen cannot read at all."""


class Unfetched(Exception):  # not an OSError: mutagen turns those into its own errors
    """mutagen asked for bytes of the file that have not been fetched yet."""

    def __init__(self, start: int, end: int) -> None:
        super().__init__(f"bytes {start}-{end} not fetched")
        self.start, self.end = start, end


class SparseFile(io.RawIOBase):
    """A read-only file of `size` bytes of which only some ranges are known; reading anything
    else raises `Unfetched` naming the range."""

    def __init__(self, size: int, spans: dict[int, bytes]) -> None:
        self.size, self.spans, self.position = size, spans, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        if base + offset < 0:
            raise OSError("negative seek position")
        self.position = base + offset
        return self.position

    def read(self, count: int | None = -1) -> bytes:
        start = self.position
        end = self.size if count is None or count < 0 else min(self.size, start + count)
        if end <= start:
            return b""
        for first, data in self.spans.items():
            if first <= start and end <= first + len(data):
                self.position = end
                return data[start - first : end - first]
        raise Unfetched(start, end)


def _readers(kind: str, head: bytes) -> list[type[FileType]]:
    if kind == "mp3" and len(head) > 1 and head[0] == 0xFF and (head[1] >> 1) & 0x3 == 0:
        return [AAC]  # an ADTS frame (raw .aac) sniffs as MPEG audio: layer bits 00
    return _READERS.get(kind, [])


def length_in(kind: str, size: int, spans: dict[int, bytes]) -> float | None:
    """The length in seconds that mutagen reads from the known bytes of a file of `kind`;
    None when mutagen has no reader for the format or the file states no usable length.
    Raises `Unfetched` for bytes it needs, `NotParsable` when the bytes are not that format."""
    readers = _readers(kind, spans.get(0, b""))
    if not readers:
        return None
    view = SparseFile(size, spans)
    try:
        if len(readers) == 1:
            found: FileType | None = readers[0](view)
        else:  # Ogg: the first packet says which codec (every Ogg reader scores on it)
            head = view.read(min(size, 128))
            scored = max(readers, key=lambda reader: reader.score("", view, head))
            view.seek(0)
            found = scored(view) if scored.score("", view, head) > 0 else None
    except MutagenError as error:
        raise NotParsable(str(error)) from error
    if found is None:
        raise NotParsable(f"no {kind} stream")
    seconds = float(getattr(found.info, "length", 0) or 0)
    return seconds if math.isfinite(seconds) and seconds > 0 else None


async def read_length(kind: str, size: int, head: bytes, fetch: Fetch) -> float | None:
    """`length_in` for a file read through `fetch(start, count)`, starting from its first
    bytes `head`; fetches what mutagen asks for within `FETCH_ROUNDS` and the byte budget,
    and gives None (unknown) past them."""
    spans = {0: head}
    spent = len(head)
    for _ in range(FETCH_ROUNDS):
        try:
            return length_in(kind, size, spans)
        except Unfetched as gap:
            count = max(FETCH_MIN_BYTES, gap.end - gap.start)
            start = max(0, min(gap.start, size - count))  # near the end: read the whole tail
            count = min(count, size - start)
            if spent + count > FETCH_BUDGET_BYTES:
                return None
            spans[start] = await fetch(start, count)
            spent += count
    return None
