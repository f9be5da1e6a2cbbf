"""A Discord bot for AI music through MusicAPI, with per-server credit quotas."""

__version__ = "0.1.0"
