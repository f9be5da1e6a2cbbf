"""A local MusicAPI server for tests, benchmarks and ``MUSICAPI_SIMULATE=1``.

Its own package, apart from the client in ``bot.musicapi``, and it never imports the client: its
rule tables are a second reading of docs/musicapi/protocol.md, so a client that builds a wrong body
is refused here as the real server would refuse it. The bot imports it only when simulating.
"""

from __future__ import annotations

# server.py's __all__ is the one list of what the package offers; a star import re-exports
# exactly that list (mypy and ruff read it), so the names are not kept twice.
from .server import *  # noqa: F403
from .server import __all__ as __all__
