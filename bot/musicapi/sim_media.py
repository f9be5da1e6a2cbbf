"""Real, tiny media files for the simulator: a sine-tone WAV and a solid-colour PNG.

Stdlib only, so ``MUSICAPI_SIMULATE=1`` needs nothing extra installed, and the files are
genuinely playable/viewable so delivery code is exercised end to end.
"""

from __future__ import annotations

import io
import math
import struct
import wave
import zlib
from functools import lru_cache

__all__ = ["SAMPLE_RATE", "WAV_HEADER_BYTES", "png_bytes", "wav_bytes", "wav_frames"]

SAMPLE_RATE = 8000
WAV_HEADER_BYTES = 44
_SAMPLE_WIDTH = 2  # 16-bit mono
_AMPLITUDE = 0.3 * 32767


def wav_frames(seconds: float, min_bytes: int | None = None) -> int:
    """Frame count for ``seconds`` of audio, grown so the file is at least ``min_bytes``."""
    frames = max(1, round(seconds * SAMPLE_RATE))
    if min_bytes is not None and min_bytes > WAV_HEADER_BYTES:
        frames = max(frames, math.ceil((min_bytes - WAV_HEADER_BYTES) / _SAMPLE_WIDTH))
    return frames


@lru_cache(maxsize=16)
def _one_second(frequency: int) -> bytes:
    # With an integer frequency one second holds whole periods, so repeating it is seamless:
    # a multi-megabyte file costs one second of math.sin calls.
    return b"".join(
        struct.pack("<h", int(_AMPLITUDE * math.sin(2 * math.pi * frequency * i / SAMPLE_RATE)))
        for i in range(SAMPLE_RATE)
    )


@lru_cache(maxsize=32)
def wav_bytes(frequency: int, frames: int) -> bytes:
    """A mono 16-bit 8 kHz WAV of a sine tone, ``frames`` samples long."""
    second = _one_second(frequency)
    whole, rest = divmod(frames, SAMPLE_RATE)
    pcm = second * whole + second[: rest * _SAMPLE_WIDTH]
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(_SAMPLE_WIDTH)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(pcm)
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


@lru_cache(maxsize=64)
def png_bytes(rgb: tuple[int, int, int], size: int = 64) -> bytes:
    """A ``size``×``size`` solid-colour RGB PNG."""
    row = b"\x00" + bytes(rgb) * size  # filter type 0, then the pixels
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(row * size))
        + _chunk(b"IEND", b"")
    )
