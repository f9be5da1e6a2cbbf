"""Loaded at start-up by Python processes whose PYTHONPATH includes this directory.

Set by ``FakeDiscord.subprocess_env()`` for bot subprocesses: points discord.py's gateway
(and REST base) at the fake even when the bot itself only sets ``Route.BASE``.
"""

import os

_gateway = os.environ.get("FAKEDISCORD_GATEWAY_URL")
if _gateway:
    try:
        import discord.gateway
        import discord.http
        import yarl

        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(_gateway)
        _api = os.environ.get("FAKEDISCORD_API_BASE")
        if _api:
            discord.http.Route.BASE = _api
    except Exception as exc:  # never break interpreter start-up
        import sys

        print(f"fakediscord shim: could not patch discord.py: {exc!r}", file=sys.stderr)
