"""The length of an uploaded audio file, read from its bytes with mutagen.

A follow-up step of `/song upload` (`extend at:`, `add-instrumental end:`) must fit the file,
and that must be known before the upload is paid for. mutagen reads the length from what each
container states (an MP3's Xing/VBRI header or its bitrate and size, FLAC's STREAMINFO, the last
Ogg page's granule position, an MP4's `mdhd`) without decoding the audio.

The file stays on Discord's CDN: mutagen parses a sparse view of it made of the byte ranges
fetched so far. When it reads a range not fetched yet, that range is fetched and the parse runs
again, within a few rounds and a byte budget, so a file with its index at the end (an Ogg's last
page, an MP4 whose `moov` follows the audio) costs two small reads, not a download. A file that
needs more than the budget is refused (`TooLarge`), never read further: the parser can only
ever see the ranges fetched.

Each parse runs in a child process with a time limit (`bot.validation.offloop`), never on the
event loop: a crafted file can make mutagen work for minutes. WebM has no mutagen reader; its
length is read here from the EBML header (Segment → Info → Duration), through the same view.
A file whose own header states more audio than it holds is refused as cut off (`CutOff`):
an MP3's Xing/VBRI byte count, a WAV's RIFF size, a WebM's Segment size, an MP4's top-level
box sizes, and a FLAC's frame count times the smallest frame its STREAMINFO states. A constant
bitrate MP3 without a Xing/VBRI header states no total anywhere (mutagen computes its length
from the bitrate and the file's size), so a cut-off one reads as the shorter file it now is,
and is held to the length checks at that length.
"""

from __future__ import annotations

import io
import math
import struct
from collections.abc import Awaitable, Callable
from typing import Any

from mutagen import FileType
from mutagen.aac import AAC
from mutagen.flac import FLAC
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4
from mutagen.oggflac import OggFLAC
from mutagen.oggopus import OggOpus
from mutagen.oggspeex import OggSpeex
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

FETCH_MIN_BYTES = 64 * 1024  # one round reads at least this much (a page, an atom, frames)
# The most of one file the bot reads to check it: cover art of a few MiB still fits, and a
# parse can never see more than this.
FETCH_BUDGET_BYTES = 4 * 1024 * 1024
FETCH_ROUNDS = 6
# How much shorter than its header says a file may be before it counts as cut off (about one
# MPEG frame, or a chunk's padding).
CUT_OFF_SLACK_BYTES = 4096

# Which mutagen readers fit each sniffed format. webm (Matroska) has none: `webm_seconds`.
_OGG: list[type[FileType]] = [OggVorbis, OggOpus, OggFLAC, OggSpeex]
_READERS: dict[str, list[type[FileType]]] = {
    "mp3": [MP3], "ogg": _OGG, "flac": [FLAC], "m4a": [MP4], "wav": [WAVE],
}  # fmt: skip

Fetch = Callable[[int, int], Awaitable[bytes]]


class NotParsable(Exception):
    """The bytes claim a format (by their magic number) that mutagen cannot read at all."""


class TooLarge(Exception):
    """Checking the file would need more than `FETCH_BUDGET_BYTES` of it."""


class CutOff(Exception):
    """The file ends before the audio its own header counts: a partial download or copy."""

    def __init__(self, stated: int, actual: int) -> None:
        super().__init__(stated, actual)
        self.stated, self.actual = stated, actual


class Unfetched(Exception):  # not an OSError: mutagen turns those into its own errors
    """mutagen asked for bytes of the file that have not been fetched yet."""

    def __init__(self, start: int, end: int) -> None:
        super().__init__(start, end)  # as args, so it pickles back from the parsing process
        self.start, self.end = start, end

    def __str__(self) -> str:
        return f"bytes {self.start}-{self.end} not fetched"


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
    """The length in seconds stated by the known bytes of a file of `kind`; None when the
    format has no reader or the file states no usable length. Raises `Unfetched` for bytes it
    needs, `NotParsable` when the bytes are not that format, `CutOff` when the file is shorter
    than its header says. Runs in the parsing process (`read_length`)."""
    view = SparseFile(size, spans)
    try:
        if kind == "webm":
            return webm_seconds(view)
        if kind == "wav" and (seconds := _canonical_wav(view)) is not None:
            return seconds
        readers = _readers(kind, spans.get(0, b""))
        if not readers:
            return None
        if len(readers) == 1:
            found: FileType | None = readers[0](view)
        else:  # Ogg: the first packet says which codec (every Ogg reader scores on it)
            head = view.read(min(size, 128))
            scored = max(readers, key=lambda reader: reader.score("", view, head))
            view.seek(0)
            found = scored(view) if scored.score("", view, head) > 0 else None
        if isinstance(found, MP3):
            _check_mpeg_complete(view, found.info)
        elif isinstance(found, MP4):
            _check_mp4_complete(view)
        elif isinstance(found, FLAC):
            _check_flac_complete(view, found.info)
    except (Unfetched, NotParsable, CutOff):
        raise
    except Exception as error:  # mutagen on hostile bytes raises more than MutagenError
        raise NotParsable(f"{type(error).__name__}: {error}") from None
    if found is None:
        raise NotParsable(f"no {kind} stream")
    seconds = float(getattr(found.info, "length", 0) or 0)
    return seconds if math.isfinite(seconds) and seconds > 0 else None


_UNKNOWN_WAV_SIZES = (0, 0xFFFFFFFF)


def _canonical_wav(view: SparseFile) -> float | None:
    """A canonical WAV (`fmt ` chunk first, then `data`) from its header: the byte rate and
    the data chunk's size, which must fit the file."""
    view.seek(0)
    head = view.read(44)
    if len(head) < 44 or head[12:16] != b"fmt " or head[36:40] != b"data":
        return None
    riff_size = struct.unpack_from("<I", head, 4)[0]
    byte_rate = struct.unpack_from("<I", head, 28)[0]
    data_size = struct.unpack_from("<I", head, 40)[0]
    # A WAV written as a stream (to a pipe) has 0 or 0xFFFFFFFF for sizes it never knew.
    if riff_size not in _UNKNOWN_WAV_SIZES and riff_size + 8 > view.size + CUT_OFF_SLACK_BYTES:
        raise CutOff(riff_size + 8, view.size)
    if data_size in _UNKNOWN_WAV_SIZES:
        data_size = view.size - 44
    return min(data_size, view.size - 44) / byte_rate if byte_rate else None


def _check_mpeg_complete(view: SparseFile, info: Any) -> None:
    """An encoder's Xing/Info (or VBRI) header counts the bytes of the whole stream; a file
    that ends well before that was cut off."""
    start = int(getattr(info, "frame_offset", 0))
    if getattr(info, "layer", 3) != 3:
        return
    mono = getattr(info, "mode", 0) == 3
    xing_at = (21 if mono else 36) if getattr(info, "version", 1) == 1 else (13 if mono else 21)
    view.seek(start + xing_at)
    xing = view.read(16)
    stated = None
    if xing[:4] in (b"Xing", b"Info") and len(xing) == 16:
        flags = struct.unpack_from(">I", xing, 4)[0]
        if flags & 0x2:  # the bytes field follows the frames field when both are present
            stated = struct.unpack_from(">I", xing, 12 if flags & 0x1 else 8)[0]
    else:
        view.seek(start + 36)
        vbri = view.read(14)
        if vbri[:4] == b"VBRI" and len(vbri) == 14:
            stated = struct.unpack_from(">I", vbri, 10)[0]
    if stated is not None and view.size - start + CUT_OFF_SLACK_BYTES < stated:
        raise CutOff(start + stated, view.size)


_MP4_TOP_BOXES = 64  # a plain file has a handful (ftyp, moov, mdat, free, udta)


def _check_mp4_complete(view: SparseFile) -> None:
    """Every top-level box of an MP4 states its size; in a whole file none runs past the end.
    A "fast start" file cut off inside its audio still has its `moov` (mutagen reads it), but
    its `mdat` now claims more bytes than are left. Only headers already fetched are looked
    at (mutagen reads every top-level header itself), so this costs no read of its own."""
    position = 0
    for _ in range(_MP4_TOP_BOXES):
        if position + 8 > view.size:
            return
        view.seek(position)
        try:
            header = view.read(8)
            size = struct.unpack_from(">I", header)[0]
            if size == 1:  # the size follows as 64 bits
                size = struct.unpack(">Q", view.read(8))[0]
        except Unfetched:
            return
        if size == 0:  # "to the end of the file", as a streaming writer leaves its last box
            return
        if size < 8:
            return  # malformed past what mutagen needed: not this check's to judge
        if position + size > view.size + CUT_OFF_SLACK_BYTES:
            raise CutOff(position + size, view.size)
        position += size


_FLAC_FRAME_SYNC = 0xFFF8  # 14 sync bits, a reserved 0, then the blocking strategy bit
_FLAC_BLOCKS = 128  # metadata blocks walked to find where the audio starts


def _flac_audio_offset(view: SparseFile) -> int:
    """Where a FLAC's first frame starts: after its metadata blocks, when a frame sync code is
    found right there; otherwise (a writer that got a block's size wrong, which mutagen reads
    around) 4, so the whole file counts as audio and nothing is refused on a guess. mutagen
    has read every block header; only the two bytes of the sync may need one more read."""
    view.seek(0)
    if view.read(4) != b"fLaC":  # behind an ID3 tag: rare in FLAC, left unjudged
        return 4
    position = 4
    for _ in range(_FLAC_BLOCKS):
        view.seek(position)
        try:
            header = view.read(4)
        except Unfetched:
            return 4  # not where mutagen read: a size it did not trust
        if len(header) < 4:
            return 4
        position += 4 + int.from_bytes(header[1:4], "big")
        if header[0] & 0x80:  # the last metadata block
            view.seek(position)
            sync = view.read(2)
            if len(sync) == 2 and int.from_bytes(sync, "big") & 0xFFFE == _FLAC_FRAME_SYNC:
                return position
            return 4
    return 4


def _check_flac_complete(view: SparseFile, info: Any) -> None:
    """STREAMINFO counts the samples and states the largest block and the smallest frame (in
    bytes) of the whole stream, so the audio is at least (frames the samples need) times (the
    smallest frame). Encoders that could not know (writing to a pipe) leave the sizes at 0,
    and then nothing is checked. The bound is loose (silence makes tiny frames) but never
    wrong: a file that fails it holds fewer bytes than its own frames must."""
    total = int(getattr(info, "total_samples", 0) or 0)
    block = int(getattr(info, "max_blocksize", 0) or 0)
    smallest = int(getattr(info, "min_framesize", 0) or 0)
    if not (total and block and smallest):
        return
    needed = -(-total // block) * smallest
    start = _flac_audio_offset(view)
    if view.size - start + CUT_OFF_SLACK_BYTES < needed:
        raise CutOff(start + needed, view.size)


# -- WebM (Matroska): EBML elements, read through the same bounded view -------------------------

_EBML, _DOC_TYPE = 0x1A45DFA3, 0x4282
_SEGMENT, _INFO, _CLUSTER = 0x18538067, 0x1549A966, 0x1F43B675
_TIMECODE_SCALE, _DURATION = 0x2AD7B1, 0x4489
_UNKNOWN_SIZE = -1
_MAX_ELEMENTS = 64  # elements looked at before Info; real files have a handful


def _vint(view: SparseFile, keep_marker: bool) -> int:
    first = view.read(1)
    if not first:
        raise NotParsable("webm ends inside an element header")
    length = 9 - first[0].bit_length()  # leading zeros + 1
    if not 1 <= length <= 8:
        raise NotParsable("webm has an invalid element header")
    rest = view.read(length - 1)
    if len(rest) != length - 1:
        raise NotParsable("webm ends inside an element header")
    raw = int.from_bytes(first + rest, "big")
    if keep_marker:
        return raw
    value = raw & ((1 << (7 * length)) - 1)
    return _UNKNOWN_SIZE if value == (1 << (7 * length)) - 1 else value


def _element(view: SparseFile) -> tuple[int, int, int]:
    """(id, size or _UNKNOWN_SIZE, offset of the data) of the element at the position."""
    element_id = _vint(view, keep_marker=True)
    size = _vint(view, keep_marker=False)
    return element_id, size, view.tell()


def _children(view: SparseFile, start: int, end: int) -> dict[int, bytes]:
    """The small children (≤ 64 bytes) of an element's data, by id."""
    found: dict[int, bytes] = {}
    view.seek(start)
    for _ in range(_MAX_ELEMENTS):
        if view.tell() >= end:
            break
        element_id, size, data = _element(view)
        if size == _UNKNOWN_SIZE or data + size > end:
            raise NotParsable("webm element overruns its parent")
        if size <= 64:
            found[element_id] = view.read(size)
        view.seek(data + size)
    return found


def webm_seconds(view: SparseFile) -> float | None:
    """The Duration in a WebM's Segment Info, in seconds; None when the file states none
    (recorders that stream often leave it out). Raises `NotParsable` for bytes that are not
    WebM/Matroska, `CutOff` when the Segment says it is longer than the file."""
    view.seek(0)
    element_id, size, data = _element(view)
    if element_id != _EBML or size == _UNKNOWN_SIZE:
        raise NotParsable("no EBML header")
    doc_type = _children(view, data, data + size).get(_DOC_TYPE, b"").rstrip(b"\x00")
    if doc_type not in (b"webm", b"matroska"):
        raise NotParsable("EBML but not WebM or Matroska")
    view.seek(data + size)
    element_id, size, data = _element(view)
    if element_id != _SEGMENT:
        raise NotParsable("no Segment")
    if size != _UNKNOWN_SIZE and data + size > view.size + CUT_OFF_SLACK_BYTES:
        raise CutOff(data + size, view.size)
    end = view.size if size == _UNKNOWN_SIZE else data + size
    position = data
    for _ in range(_MAX_ELEMENTS):
        if position >= end:
            return None
        view.seek(position)
        element_id, size, data = _element(view)
        if element_id == _CLUSTER or size == _UNKNOWN_SIZE:
            return None  # the audio began (or the layout is unknown) before any Info
        if element_id == _INFO:
            info = _children(view, data, data + size)
            scale = int.from_bytes(info.get(_TIMECODE_SCALE, b""), "big") or 1_000_000
            duration = info.get(_DURATION, b"")
            if len(duration) not in (4, 8):
                return None
            ticks = struct.unpack(">f" if len(duration) == 4 else ">d", duration)[0]
            seconds = ticks * scale / 1e9
            return seconds if math.isfinite(seconds) and seconds > 0 else None
        position = data + size
    return None


def length_answer(kind: str, size: int, spans: dict[int, bytes]) -> dict[str, Any]:
    """`length_in` as the JSON answer of the parsing process (`parse_worker`)."""
    try:
        return {"seconds": length_in(kind, size, spans)}
    except Unfetched as gap:
        return {"unfetched": [gap.start, gap.end]}
    except CutOff as cut:
        return {"cut_off": [cut.stated, cut.actual]}
    except NotParsable as error:
        return {"not_parsable": str(error)[:500]}


def _outcome(answer: Any) -> float | None:
    """The parent's side of `length_answer`: the length, or the exception it stands for. The
    answer came from a process that read hostile bytes, so every field is checked."""
    from bot.validation import offloop  # see read_length

    if not isinstance(answer, dict) or len(answer) != 1:
        raise offloop.ParseCrashed("malformed answer")
    ((key, value),) = answer.items()
    if key == "seconds" and (value is None or isinstance(value, int | float)):
        return None if value is None else float(value)
    if key in ("unfetched", "cut_off") and isinstance(value, list) and len(value) == 2:
        first, second = value
        if isinstance(first, int) and isinstance(second, int) and min(first, second) >= 0:
            if key == "cut_off":
                raise CutOff(first, second)
            if first <= second:
                raise Unfetched(first, second)
    if key == "not_parsable" and isinstance(value, str):
        raise NotParsable(value)
    raise offloop.ParseCrashed("malformed answer")


async def read_length(kind: str, size: int, head: bytes, fetch: Fetch) -> float | None:
    """`length_in` for a file read through `fetch(start, count)`, starting from its first
    bytes `head`, parsed in a child process each round (`offloop.run`, which raises
    `ParseTimedOut` past its time limit); fetches what the parser asks for within
    `FETCH_ROUNDS` and `FETCH_BUDGET_BYTES`, and raises `TooLarge` past them."""
    # Imported here: the parsing process imports this module, and needs no asyncio.
    from bot.validation import offloop

    spans = {0: head}
    spent = len(head)
    for _ in range(FETCH_ROUNDS):
        request = {"kind": kind, "size": size, "spans": spans}
        try:
            return _outcome(await offloop.run("length", request))
        except Unfetched as gap:
            if not 0 <= gap.start < size:
                raise NotParsable("asked for bytes outside the file") from None
            count = max(FETCH_MIN_BYTES, gap.end - gap.start)
            start = max(0, min(gap.start, size - count))  # near the end: read the whole tail
            count = min(count, size - start)
            if spent + count > FETCH_BUDGET_BYTES:
                raise TooLarge(f"needs {spent + count} bytes") from None
            spans[start] = await fetch(start, count)
            spent += count
    raise TooLarge(f"needs more than {FETCH_ROUNDS} reads")
