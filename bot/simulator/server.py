"""A local MusicAPI server, faithful to docs/musicapi/protocol.md, for tests, benchmarks and demo
mode.

Serves every endpoint of docs/musicapi/protocol.md §1: Sonic create/poll, the one-shot uploads,
sample, mashup, stems, replace-section, persona, create-voice and the sync utilities (BPM, VOX, WAV,
MIDI, lyrics timeline, upsample-tags, upload), credits and lyrics; Producer, Nuro, Riffusion and
Studio with their own poll shapes; and the SDK's older ``/suno/*`` names. Envelopes and error
texts are the documented ones (verbatim where docs/musicapi/protocol.md quotes them), and audio,
cover art and MIDI are real files on loopback ``/files/...`` routes.

Where the docs leave two readings open, a knob picks one (defaults follow the newest sources):
``not_ready_202`` (202 vs 200-with-pending-clips), ``not_found_status`` (404 vs 400),
``failure_mode`` (top-level ``type`` vs clip ``state: failed``), ``limits`` (newest vs the error
table's), ``error_key`` (message / error / detail), ``submit_includes_code``, ``basic_stems`` /
``full_stems`` (stem counts), ``step_failure_status``, ``auto_concat_charges``,
``nuro_segments_must_sum`` and ``retired`` (410 Gone for Nuro, Riffusion, Studio or Producer
cover). ``midi_not_ready_calls`` makes /sonic/midi answer 202 first; ``upload_time`` is how long
a synchronous upload takes.

Magic words in the prompt, description, title, tags (or lyrics, sound, instruction, URL...) make
tests deterministic: ``[sim:fail]`` fails the task at the end, ``[sim:half-fail]`` fails only
the second clip, ``[sim:moderate]`` / ``[sim:lyrics-moderate]`` are refused with the documented
403s and ``[sim:slow]`` takes ten times the generation time. Tasks made from a clip inherit
``[sim:fail]`` / ``[sim:slow]`` from it (upload ``https://x/[sim:fail].mp3``, then stem it).
Upload URLs with ``[sim:catalog-match]`` / ``[sim:unreachable]`` are refused like upstream does;
Nuro answers ``[sim:queue-full]`` / ``[sim:language]`` with its catalogue's errors.

Requests that carry ``webhook_url`` get MusicAPI's webhooks (``webhooks.py``), on loopback only.
``seed`` makes a run repeatable (ids, task times, faults).

Run standalone: ``python -m bot.simulator --port 8765 --generation-time 3``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import threading
from typing import Any

from aiohttp import web

from .core import RETIRABLE, STREAM_PREFIX, SimCore, SimulatorConfig
from .handlers import Route
from .handlers.nuro import NuroHandlers
from .handlers.producer import ProducerHandlers
from .handlers.riffusion import RiffusionHandlers
from .handlers.sonic import SonicHandlers
from .handlers.sonic_tools import SonicToolHandlers, midi_notes
from .handlers.studio import StudioHandlers
from .handlers.suno import SunoAliasHandlers
from .media import midi_bytes, mp3_silence, png_bytes, wav_bytes
from .protocol import (
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
    TASK_COSTS,
    SimClip,
    SimTask,
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

log = logging.getLogger("bot.simulator")


class MusicAPISimulator(SimCore):
    """The shared state (``SimCore``) served through one route table, composed from the
    per-family handler modules in ``handlers/``."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        super().__init__(config)
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self.sonic = SonicHandlers(self)
        self.producer = ProducerHandlers(self)
        self.nuro = NuroHandlers(self)
        handlers = (
            self.sonic,
            SonicToolHandlers(self),
            self.producer,
            self.nuro,
            RiffusionHandlers(self),
            StudioHandlers(self),
            SunoAliasHandlers(self, self.sonic._handle_create, self.sonic._handle_task),
        )
        self.routes: list[Route] = [route for table in handlers for route in table.routes()]
        self.routes += [
            ("GET", "/files/{name}", self._handle_file),
            # Not part of MusicAPI: exact task timing for benchmarks in other processes.
            ("GET", "/_sim/tasks/{task_id}", self._handle_sim_task),
        ]

    # ------------------------------------------------------------------ control

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("the simulator is not running")
        return self._base_url

    def make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        for method, path, handler in self.routes:
            if method == "GET":
                app.router.add_get(path, handler)  # answers HEAD too, as a CDN does
            else:
                app.router.add_route(method, path, handler)
        return app

    async def _handle_sim_task(self, request: web.Request) -> web.Response:
        task = self.tasks.get(request.match_info["task_id"])
        if task is None:
            return web.json_response({"message": "task not found."}, status=404)
        # time.monotonic() is one clock for every process on the machine.
        return web.json_response(
            {
                "task_id": task.task_id,
                "created_at": task.created_at,
                "completed_at": task.completed_at,
            }
        )

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._stopping = asyncio.Event()
        await self.webhooks.start()
        # handler_cancellation: a client that gave up on a stalled request frees its handler.
        runner = web.AppRunner(
            self.make_app(), access_log=None, shutdown_timeout=1.0, handler_cancellation=True
        )
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        bound_port = runner.addresses[0][1]
        self._base_url = f"http://{host}:{bound_port}"
        log.info("MusicAPI simulator listening on %s", self._base_url)
        return self._base_url

    async def stop(self) -> None:
        self._stopping.set()  # wakes stalled handlers so shutdown is immediate
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.webhooks.stop()
        self._base_url = None

    def _webhook_data(self, task: SimTask) -> Any:
        # File URLs of a webhook point at the simulator itself: there is no request to follow.
        origin = self._base_url or ""
        if task.family == "producer":
            return self.producer._producer_data(origin, task, task.progress())
        if task.family == "nuro":
            return self.nuro._nuro_flat(origin, task)
        return self.sonic._sonic_data(origin, task, task.progress())

    async def _handle_file(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        fault = await self._cdn_fault(name)
        if fault is not None:
            return fault
        stem, _, extension = name.rpartition(".")
        stem = stem.removeprefix(STREAM_PREFIX)  # the stream plays the same audio
        if name.startswith("image_") and extension == "png":
            found = self._clips.get(stem.removeprefix("image_"))
            if found is not None:
                return web.Response(body=png_bytes(found[1].colour), content_type="image/png")
        found = self._clips.get(stem)
        if found is None:
            return web.Response(status=404, text="Not Found")
        clip = found[1]
        if extension == "wav":
            audio = wav_bytes(clip.frequency, self._clip_frames(clip))
            return web.Response(body=audio, content_type="audio/wav")
        if extension == "mid":
            notes = midi_notes(clip, self._clip_seconds(clip))
            return web.Response(body=midi_bytes(notes), content_type="audio/midi")
        if extension == "mp3":
            # Producer mp3 downloads: a real, playable (silent) MP3 of the clip's length.
            audio = mp3_silence(round(self._clip_seconds(clip), 2))
            return web.Response(body=audio, content_type="audio/mpeg")
        return web.Response(status=404, text="Not Found")


class BackgroundSimulator:
    """Runs a simulator on its own event loop in a daemon thread, for synchronous callers
    (such as the official SDK). ``sim`` is shared: read its counters from the caller's thread."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.sim = MusicAPISimulator(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return self.sim.base_url

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="musicapi-sim", daemon=True)
        thread.start()
        self._loop, self._thread = loop, thread
        return asyncio.run_coroutine_threadsafe(self.sim.start(host, port), loop).result(10)

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        asyncio.run_coroutine_threadsafe(self.sim.stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
        self._loop = self._thread = None

    def __enter__(self) -> BackgroundSimulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


async def _serve(sim: MusicAPISimulator, host: str, port: int) -> None:
    done = asyncio.Event()
    # SIGTERM (docker stop, Popen.terminate) shuts down as cleanly as Ctrl+C does.
    with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows loops
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, done.set)
    try:
        url = await sim.start(host, port)
        print(url, flush=True)
        await done.wait()
    finally:
        await sim.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run a local MusicAPI simulator.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--generation-time", type=float, default=SimulatorConfig.generation_time)
    parser.add_argument("--generation-spread", type=float, default=0.0)
    parser.add_argument("--failure-rate", type=float, default=0.0)
    parser.add_argument("--credits", type=float, default=SimulatorConfig.credits)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument(
        "--seed", type=int, default=None, help="repeat the same ids, timings and faults"
    )
    parser.add_argument(
        "--webhook-scheme",
        choices=("timestamped", "body_only", "both"),
        default="timestamped",
        help="how webhooks to loopback receivers are signed (docs/musicapi/protocol.md §5)",
    )
    parser.add_argument(
        "--require-key",
        action="store_true",
        help="only accept the key in the MUSICAPI_KEY environment variable",
    )
    args = parser.parse_args(argv)
    api_key = None
    if args.require_key:
        # Read from the environment, not argv, so the key never shows in a process listing.
        api_key = os.environ.get("MUSICAPI_KEY") or None
    config = SimulatorConfig(
        generation_time=args.generation_time,
        generation_spread=args.generation_spread,
        failure_rate=args.failure_rate,
        credits=args.credits,
        latency=args.latency,
        api_key=api_key,
        seed=args.seed,
        webhook_scheme=args.webhook_scheme,
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(MusicAPISimulator(config), args.host, args.port))
