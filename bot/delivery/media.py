"""Fetching files MusicAPI points at, with a size cap and a timeout, and naming them truthfully.

Only URLs that MusicAPI returned (or Discord attachments) are ever fetched; never a URL a member
typed, and only where `safe_http` allows (public https://, MEDIA_HOSTS). The file extension
comes from the bytes, not from the URL, because upstream CDNs have served WAV behind .mp3 names
and the other way round; bytes that are none of the kinds the caller expects are not attached.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp

from bot.delivery.safe_http import MediaFetcher, RefusedURL
from bot.validation.attachments import HEAD_BYTES, audio_kind

# Discord's default upload limit for a server without boosts.
DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024
# The most one download may hold in memory, whatever a channel's limit says: Discord's largest
# upload limit (a server at boost level 3).
MAX_MEDIA_BYTES = 100 * 1024 * 1024
# Room for the multipart envelope and the JSON payload beside the files.
UPLOAD_MARGIN = 256 * 1024
FETCH_TIMEOUT = aiohttp.ClientTimeout(total=60, sock_connect=10, sock_read=20)
# How long one file may take, retries included, before a link is posted instead. A passing CDN
# error (a 503, a reset) usually clears within seconds; a member waits for the song meanwhile.
FETCH_BUDGET_S = 30.0
FIRST_RETRY_S = 0.5
MAX_RETRY_S = 8.0
# Statuses worth asking again: the CDN says "not now", not "no such file".
_RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
_SLUG = re.compile(r"[^a-z0-9]+")
log = logging.getLogger(__name__)

TOO_LARGE_NOTE = (
    "The file is too large to attach here. MusicAPI's links may expire: download it soon."
)
UNAVAILABLE_NOTE = (
    "MusicAPI's file server was temporarily unavailable, so the file could not be attached. "
    "Its links may expire: download it soon."
)
REFUSED_NOTE = (
    "MusicAPI's link points somewhere the bot does not download from (only public https:// "
    "file servers), so the file was not attached."
)
WRONG_TYPE_NOTE = (
    "MusicAPI's file server did not send the kind of file this link stands for, so nothing "
    "was attached."
)

# What may be attached, by the extension `sniff_extension` gives the bytes.
AUDIO_KINDS = frozenset({"mp3", "wav", "ogg", "flac", "m4a", "webm"})
IMAGE_KINDS = frozenset({"png", "jpg", "webp"})
MIDI_KINDS = frozenset({"mid"})
# Files of a job whose result is not songs (a producer download): audio, MIDI or an archive.
RESULT_KINDS = AUDIO_KINDS | MIDI_KINDS | frozenset({"zip"})


class TooLarge(Exception):
    """The file is bigger than the caller can use."""


@dataclass(frozen=True, slots=True)
class Fetched:
    """A file's bytes and their real extension, or the true reason a link is posted instead."""

    data: bytes | None
    link_note: str = ""
    ext: str = ""  # one of the kinds asked for whenever `data` is set


async def fetch_with_retries(
    fetcher: MediaFetcher,
    url: str,
    max_bytes: int,
    *,
    kinds: frozenset[str],
    budget_s: float = FETCH_BUDGET_S,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Fetched:
    """Download `url`, retrying passing failures with growing delays within `budget_s`.

    A file over `max_bytes` is never retried (TOO_LARGE_NOTE); a CDN that keeps failing past
    the budget, or answers that the file is gone, gives UNAVAILABLE_NOTE; an address the bot
    does not download from gives REFUSED_NOTE, and bytes of none of `kinds` WRONG_TYPE_NOTE."""
    max_bytes = min(max_bytes, MAX_MEDIA_BYTES)
    if max_bytes <= 0:
        return Fetched(None, TOO_LARGE_NOTE)
    deadline = clock() + budget_s
    delay = FIRST_RETRY_S
    attempt = 0
    while True:
        attempt += 1
        remaining = deadline - clock()
        limits = aiohttp.ClientTimeout(
            total=max(0.1, min(FETCH_TIMEOUT.total or remaining, remaining)),
            sock_connect=FETCH_TIMEOUT.sock_connect,
            sock_read=FETCH_TIMEOUT.sock_read,
        )
        try:
            data = await fetch_bounded(fetcher, url, max_bytes, limits=limits)
        except TooLarge:
            return Fetched(None, TOO_LARGE_NOTE)
        except RefusedURL as refused:
            log.warning("a result file was not fetched: %s", refused)
            return Fetched(None, REFUSED_NOTE)
        except aiohttp.ClientResponseError as error:
            if error.status not in _RETRY_STATUSES:
                log.warning("a result file answered %d; posting a link", error.status)
                return Fetched(None, UNAVAILABLE_NOTE)
            problem = f"HTTP {error.status}"
        except (aiohttp.ClientError, TimeoutError) as error:
            problem = type(error).__name__
        else:
            ext = sniff_extension(data)
            if ext is None or ext not in kinds:
                log.warning(
                    "a result file is %s, not one of %s", ext or "of no known type", sorted(kinds)
                )
                return Fetched(None, WRONG_TYPE_NOTE)
            return Fetched(data, ext=ext)
        if clock() + delay >= deadline:
            log.warning(
                "a result file still failed after %d attempt(s) in %.0f s (%s); posting a link",
                attempt,
                budget_s,
                problem,
            )
            return Fetched(None, UNAVAILABLE_NOTE)
        log.info("a result file failed (%s); retrying in %.1f s", problem, delay)
        await sleep(delay)
        delay = min(delay * 2, MAX_RETRY_S)


async def fetch_bounded(
    fetcher: MediaFetcher,
    url: str,
    max_bytes: int,
    *,
    limits: aiohttp.ClientTimeout = FETCH_TIMEOUT,
) -> bytes:
    """Download `url`; raise TooLarge past `max_bytes`, RefusedURL where the bot does not
    download from, aiohttp errors on failure."""
    async with fetcher.get(url, limits=limits) as response:
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
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    return None


def slug(text: str, fallback: str = "song") -> str:
    cleaned = _SLUG.sub("-", text.lower()).strip("-")[:60].strip("-")
    return cleaned or fallback
