"""Fetching files MusicAPI points at, with a size cap and a timeout, and naming them truthfully.

Only URLs that MusicAPI returned (or Discord attachments) are ever fetched; never a URL a member
typed. The file extension comes from the bytes, not from the URL, because upstream CDNs have
served WAV behind .mp3 names and the other way round.
"""

from __future__ import annotations

import re

import aiohttp

from bot.validation.attachments import HEAD_BYTES, audio_kind

# Discord's default upload limit for a server without boosts.
DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024
# Room for the multipart envelope and the JSON payload beside the files.
UPLOAD_MARGIN = 256 * 1024
FETCH_TIMEOUT = aiohttp.ClientTimeout(total=60, sock_connect=10, sock_read=20)
_SLUG = re.compile(r"[^a-z0-9]+")


class TooLarge(Exception):
    """The file is bigger than the caller can use."""


async def fetch_bounded(session: aiohttp.ClientSession, url: str, max_bytes: int) -> bytes:
    """Download `url`; raise TooLarge past `max_bytes`, aiohttp errors on failure."""
    async with session.get(url, timeout=FETCH_TIMEOUT) as response:
        response.raise_for_status()
        if response.content_length is not None and response.content_length > max_bytes:
            raise TooLarge(url)
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > max_bytes:
                raise TooLarge(url)
            chunks.append(chunk)
        return b"".join(chunks)


def sniff_extension(data: bytes) -> str | None:
    """The real type of a media file from its first bytes."""
    audio = audio_kind(data[:HEAD_BYTES])
    if audio is not None:
        return audio
    head = data[:16]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"MThd"):
        return "mid"
    return None


def slug(text: str, fallback: str = "song") -> str:
    cleaned = _SLUG.sub("-", text.lower()).strip("-")[:60].strip("-")
    return cleaned or fallback
