"""The simulator's route handlers, one small module per MusicAPI family (plus Sonic's tools and
the SDK's ``/suno/*`` aliases), each over the simulator's one shared state (``SimCore``).

Every module's ``routes()`` is a list of ``(method, path, handler)``; the server adds the lists
to its app as they are, so a route is found by reading its family's table, not by a method name
built at run time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

__all__ = ["Handler", "Route", "task_routes"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Route = tuple[str, str, Handler]


def task_routes(api: str, family: str, handler: Handler, missing: Handler) -> list[Route]:
    """A family's poll route, and the two spellings of a poll without a task id."""
    return [
        ("GET", f"{api}/{family}/task/{{task_id}}", handler),
        ("GET", f"{api}/{family}/task/", missing),
        ("GET", f"{api}/{family}/task", missing),
    ]
