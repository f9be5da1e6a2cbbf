"""Attachments checked by what they hold, before anything is uploaded or charged.

The name and the content type of an attachment are whatever the member's computer said; an
`.mp3` of random bytes used to be forwarded to `/sonic/upload` and `/sonic/create-voice`. Audio
is now recognised by its first bytes (the container's magic number or an MPEG frame header)
and must then parse as that format (`audio_length`), which also gives its length; lyrics files
must decode as UTF-8 text.
"""

from __future__ import annotations

import asyncio
import struct

import aiohttp
import discord

from bot.errors import InputError
from bot.validation import offloop
from bot.validation.audio_length import (
    FETCH_BUDGET_BYTES,
    FETCH_MIN_BYTES,
    CutOff,
    NotParsable,
    TooLarge,
    read_length,
)
from bot.validation.text import quote

AUDIO_EXTENSIONS = (".mp3", ".wav", ".m4a", ".ogg", ".flac", ".aac", ".webm", ".opus")
AUDIO_FILE_MAX_MIB = 50
HEAD_BYTES = 64  # enough for every signature below, and for a WAV's format chunk
LYRICS_FILE_MAX_BYTES = 64 * 1024
READ_TIMEOUT = aiohttp.ClientTimeout(total=20, sock_connect=10, sock_read=10)

# MPEG audio frame header (mp3, and ADTS for raw .aac): 11 sync bits, then fields of which
# some values are reserved. Checking them tells a real frame from bytes that start with 0xFF.
_MPEG_BITRATE_BAD = (0x0, 0xF)
_MPEG_RATE_BAD = 0x3


def _mpeg_frame(head: bytes) -> bool:
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version, layer = (head[1] >> 3) & 0x3, (head[1] >> 1) & 0x3
    if layer == 0:  # ADTS (AAC): layer is always 0, the version bit is MPEG-2/4
        return (head[2] >> 2) & 0xF < 13
    bitrate, rate = head[2] >> 4, (head[2] >> 2) & 0x3
    return version != 1 and bitrate not in _MPEG_BITRATE_BAD and rate != _MPEG_RATE_BAD


def audio_kind(head: bytes) -> str | None:
    """The audio format of a file from its first bytes, or None when it is not audio."""
    if head.startswith(b"ID3") or _mpeg_frame(head):
        return "mp3"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "wav"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"fLaC"):
        return "flac"
    if head[4:8] == b"ftyp":
        return "m4a"
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML: WebM / Matroska audio
        return "webm"
    return None


def wav_seconds(head: bytes, size: int) -> float | None:
    """A canonical WAV's length from its header (byte rate) and file size, if it says so."""
    if audio_kind(head) != "wav" or head[12:16] != b"fmt " or len(head) < 36:
        return None
    byte_rate = struct.unpack_from("<I", head, 28)[0]
    return (size - 44) / byte_rate if byte_rate and size > 44 else None


def check_audio_file(
    filename: str, content_type: str | None, size: int, field: str = "file"
) -> None:
    """What Discord says about an audio attachment: a type that could be audio, a size."""
    is_audio = (content_type or "").startswith("audio/")
    if not (is_audio or filename.lower().endswith(AUDIO_EXTENSIONS)):
        raise InputError(field, f"must be an audio file ({', '.join(AUDIO_EXTENSIONS)}).")
    if size <= 0:
        raise InputError(field, "is empty.")
    if size > AUDIO_FILE_MAX_MIB * 1024 * 1024:
        mib = size / (1024 * 1024)
        raise InputError(field, f"is {mib:.0f} MiB; the limit is {AUDIO_FILE_MAX_MIB} MiB.")


def check_audio_head(head: bytes, filename: str, field: str = "file") -> str:
    """The first bytes of the file must be audio; returns its format."""
    kind = audio_kind(head)
    if kind is None:
        raise InputError(
            field,
            f"{quote(filename, 60)} is not audio that MusicAPI can read "
            f"(its content is not {', '.join(e.lstrip('.') for e in AUDIO_EXTENSIONS)}).",
        )
    return kind


async def _read_up_to(content: aiohttp.StreamReader, count: int) -> bytes:
    chunks: list[bytes] = []
    got = 0
    while got < count:
        chunk = await content.read(count - got)
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


async def read_range(
    session: aiohttp.ClientSession,
    attachment: discord.Attachment,
    start: int,
    count: int,
    field: str = "file",
) -> bytes:
    """`count` bytes of an attachment from `start`, from Discord's CDN (a range request; a
    server that ignores the range is read only as far as needed). Only Discord attachment
    URLs come here."""
    headers = {"Range": f"bytes={start}-{start + count - 1}"}
    try:
        async with session.get(attachment.url, headers=headers, timeout=READ_TIMEOUT) as response:
            response.raise_for_status()
            if response.status == 206 or start == 0:
                return await _read_up_to(response.content, count)
            return (await _read_up_to(response.content, start + count))[start:]
    except (aiohttp.ClientError, TimeoutError) as error:
        raise InputError(field, "could not be read from Discord; attach it again.") from error


async def read_head(
    session: aiohttp.ClientSession, attachment: discord.Attachment, count: int = HEAD_BYTES
) -> bytes:
    """The first `count` bytes of an attachment."""
    return await read_range(session, attachment, 0, count)


async def checked_audio(
    session: aiohttp.ClientSession, attachment: discord.Attachment, field: str = "file"
) -> tuple[str, float | None]:
    """An audio attachment checked by type, size and content. Returns its format and its
    length in seconds when the file states one (None: a WebM without a Duration, or a file
    whose header gives none).

    A file whose first bytes name a format that then cannot be parsed at all is refused as
    not audio, like one whose first bytes name no format: a magic number alone is four bytes
    anyone can type, and MusicAPI would refuse the upload after it was paid for. So is one
    that is cut off, one that cannot be checked within the bytes or the time the bot gives a
    file, and one whose parse fails in any other way. The parse runs in a child process, off
    the event loop (`audio_length.read_length`)."""
    check_audio_file(attachment.filename, attachment.content_type, attachment.size, field)
    head = await read_head(session, attachment, min(attachment.size, FETCH_MIN_BYTES))
    kind = check_audio_head(head[:HEAD_BYTES], attachment.filename, field)
    name = quote(attachment.filename, 60)

    async def fetch(start: int, count: int) -> bytes:
        return await read_range(session, attachment, start, count)

    try:
        seconds = await read_length(kind, attachment.size, head, fetch)
    except NotParsable:
        raise InputError(
            field,
            f"{name} starts like {kind} audio but is not a readable {kind} file; export it "
            "again or attach another file.",
        ) from None
    except CutOff as cut:
        raise InputError(
            field,
            f"{name} is cut off: its header counts {_size(cut.stated)} but the file ends "
            f"after {_size(cut.actual)}. Attach the whole file.",
        ) from None
    except TooLarge:
        raise InputError(
            field,
            f"{name} could not be checked within the first {FETCH_BUDGET_BYTES >> 20} MiB, "
            "the most the bot reads of a file (large cover art or tags do this); remove them "
            "or export it again.",
        ) from None
    except (offloop.ParseTimedOut, offloop.ParseCrashed):
        raise InputError(
            field,
            f"{name} could not be read within {offloop.PARSE_TIME_LIMIT_S:g} seconds (its "
            "tags or layout are unusually complex); export it again or attach another file.",
        ) from None
    return kind, seconds


def _size(count: int) -> str:
    return f"{count / 1024:.0f} KiB" if count < 1024 * 1024 else f"{count / 2**20:.1f} MiB"


def check_lyrics_file(filename: str, content_type: str | None, size: int) -> None:
    """Before downloading a `lyrics_file` attachment."""
    is_text = (content_type or "").split(";")[0].strip() == "text/plain"
    if not (filename.lower().endswith(".txt") or is_text):
        raise InputError("lyrics_file", f"must be a .txt file; {quote(filename, 60)} is not.")
    if size > LYRICS_FILE_MAX_BYTES:
        raise InputError(
            "lyrics_file",
            f"is {size // 1024} KiB; the limit is {LYRICS_FILE_MAX_BYTES // 1024} KiB.",
        )


async def read_lyrics_file(session: aiohttp.ClientSession, attachment: discord.Attachment) -> str:
    """A `lyrics_file` attachment read from Discord's CDN within `LYRICS_FILE_MAX_BYTES` (one
    byte more shows a file larger than Discord said) and its timeout, then decoded."""
    data = await read_range(session, attachment, 0, LYRICS_FILE_MAX_BYTES + 1, "lyrics_file")
    # At most 64 KiB: decoding takes microseconds, but member bytes are parsed off the loop.
    return await asyncio.to_thread(decode_lyrics_file, data)


def decode_lyrics_file(data: bytes) -> str:
    if len(data) > LYRICS_FILE_MAX_BYTES:
        raise InputError(
            "lyrics_file", f"is over the limit of {LYRICS_FILE_MAX_BYTES // 1024} KiB."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(
            "lyrics_file", "is not UTF-8 text; save it as UTF-8 and try again."
        ) from None
    if "\x00" in text:
        raise InputError("lyrics_file", "contains binary data; attach a plain text file.")
    return text.replace("\r\n", "\n")
