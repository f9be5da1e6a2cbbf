"""Parsing hostile bytes away from the event loop, in a child process killed at a deadline.

A member's file is parsed by mutagen, which is pure Python. An ID3 tag of ~415,000 tiny frames
makes it copy the rest of the tag once per frame (minutes of CPU for 8 MiB); on the event loop
that stalled gateway heartbeats, every interaction, the webhooks and `/healthz`.

Why a process and not a thread: a thread running mutagen holds the GIL, so the loop would
still stall in 5 ms slices for as long as the parse runs, and a thread cannot be stopped, so
each crafted upload would leave a core busy for minutes after its answer. A child process
shares no GIL with the loop and is killed when its time is up (`PARSE_TIME_LIMIT_S`); nothing
it did is kept.

Why a fresh interpreter per parse (`python -m bot.validation.parse_worker`, ~0.1 s to start)
and not multiprocessing: its children re-import the parent's main script (the `musicbot`
console script, so all of discord.py) before they run anything, and a pool cannot kill one
task without breaking the others' workers. Uploads are rare and rate-limited per member, so
the start-up cost is nothing next to MusicAPI's ~20 s upload. The parent hands the request
over as a pickle (its own data) and reads back a small JSON answer, never a pickle: nothing
the child says can run code in the bot. The child's only environment variable is the bot's
import path: it does not inherit the token or the MusicAPI key. Everything here is awaited:
the loop never waits on the child. At most `PARALLEL_PARSES` run at once; more wait their turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pickle
import sys
from typing import Any
from weakref import WeakKeyDictionary

PARSE_TIME_LIMIT_S = 5.0  # a real file parses in milliseconds, after ~0.1 s of start-up
PARALLEL_PARSES = 2
ANSWER_MAX_BYTES = 64 * 1024  # an answer is a few numbers or one short message
WORKER = "bot.validation.parse_worker"

_slots: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = WeakKeyDictionary()


class ParseTimedOut(Exception):
    """The parse did not finish within its time limit; the child was killed."""


class ParseCrashed(Exception):
    """The child died or answered nonsense (out of memory, a crash in a C extension)."""


def _child_environment() -> dict[str, str]:
    """The bot's own import path and nothing else: the child that reads a member's bytes does
    not inherit the bot's environment (its token, its MusicAPI key)."""
    return {"PYTHONPATH": os.pathsep.join(path for path in sys.path if path)}


def _slot() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    if loop not in _slots:
        _slots[loop] = asyncio.Semaphore(PARALLEL_PARSES)
    return _slots[loop]


async def run(function: str, request: dict[str, Any], limit_s: float | None = None) -> Any:
    """`parse_worker.FUNCTIONS[function](**request)` in a child process, returning its JSON
    answer; `ParseTimedOut` after `limit_s` seconds (`PARSE_TIME_LIMIT_S` by default: the
    child is killed then), `ParseCrashed` when it gives no well-formed answer."""
    limit = PARSE_TIME_LIMIT_S if limit_s is None else limit_s
    # A few MiB of spans: serialised in a thread, so not even the copy runs on the loop.
    payload = await asyncio.to_thread(pickle.dumps, (function, request))
    async with _slot():
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", WORKER,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env=_child_environment(),
        )  # fmt: skip
        try:
            out, _ = await asyncio.wait_for(process.communicate(payload), limit)
        except TimeoutError:
            raise ParseTimedOut(f"no answer within {limit:g} s") from None
        finally:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
    if process.returncode != 0 or not out or len(out) > ANSWER_MAX_BYTES:
        raise ParseCrashed(f"the parser exited with code {process.returncode}")
    try:
        return json.loads(out)
    except ValueError:
        raise ParseCrashed("the parser's answer is not JSON") from None
