"""A local MusicAPI server for tests, benchmarks and ``MUSICAPI_SIMULATE=1``.

Its own package, apart from the client in ``bot.musicapi``, and it never imports the client: its
rule tables are a second reading of REFERENCE.md, so a client that builds a wrong body is
refused here as the real server would refuse it. The bot imports it only when simulating.
"""

from __future__ import annotations

from .server import (
    ACCEPTED_MODELS,
    ENDPOINT_COSTS,
    MSG_ARTIST,
    MSG_AUTH_FORMAT,
    MSG_AUTH_MISSING,
    MSG_CATALOG_MATCH,
    MSG_CREDITS,
    MSG_LYRICS_INAPPROPRIATE,
    MSG_MV,
    MSG_PERSONA_UNKNOWN,
    MSG_SERVER,
    MSG_TIMEOUT,
    MSG_URL_NOT_ACCESSIBLE,
    RETIRABLE,
    TASK_COSTS,
    BackgroundSimulator,
    MusicAPISimulator,
    SimClip,
    SimTask,
    SimulatorConfig,
    main,
)

__all__ = [
    "ACCEPTED_MODELS",
    "ENDPOINT_COSTS",
    "MSG_ARTIST",
    "MSG_AUTH_FORMAT",
    "MSG_AUTH_MISSING",
    "MSG_CATALOG_MATCH",
    "MSG_CREDITS",
    "MSG_LYRICS_INAPPROPRIATE",
    "MSG_MV",
    "MSG_PERSONA_UNKNOWN",
    "MSG_SERVER",
    "MSG_TIMEOUT",
    "MSG_URL_NOT_ACCESSIBLE",
    "RETIRABLE",
    "TASK_COSTS",
    "BackgroundSimulator",
    "MusicAPISimulator",
    "SimClip",
    "SimTask",
    "SimulatorConfig",
    "main",
]
