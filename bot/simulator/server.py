"""A local MusicAPI server, faithful to REFERENCE.md, for tests, benchmarks and demo mode.

Serves every endpoint of REFERENCE §1: Sonic create/poll, the one-shot uploads, sample, mashup,
stems, replace-section, persona, create-voice and the sync utilities (BPM, VOX, WAV, MIDI,
lyrics timeline, upsample-tags, upload), credits and lyrics; Producer, Nuro, Riffusion and
Studio with their own poll shapes; and the SDK's legacy ``/suno/*`` aliases. Envelopes and error
texts are the documented ones (verbatim where REFERENCE quotes them), and audio, cover art and
MIDI are real files on loopback ``/files/...`` routes.

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

from .core import API, RETIRABLE, STREAM_PREFIX, SimulatorConfig, inherited_magic, number
from .families import FamilyRoutes
from .media import midi_bytes, mp3_silence, png_bytes, wav_bytes
from .protocol import (
    ACCEPTED_MODELS,
    ENDPOINT_COSTS,
    MAGIC_HALF_FAIL,
    MAGIC_LYRICS_MODERATE,
    MSG_ARTIST,
    MSG_AUTH_FORMAT,
    MSG_AUTH_MISSING,
    MSG_CATALOG_MATCH,
    MSG_CREDITS,
    MSG_DESCRIPTION_LENGTH,
    MSG_DESCRIPTION_REQUIRED,
    MSG_LYRICS_INAPPROPRIATE,
    MSG_MISSING_TASK_ID,
    MSG_MV,
    MSG_PERSONA_UNKNOWN,
    MSG_SERVER,
    MSG_TASK_NOT_FOUND,
    MSG_TIMEOUT,
    MSG_URL_NOT_ACCESSIBLE,
    NOT_READY_UNTIL,
    TASK_COSTS,
    SimClip,
    SimTask,
    msg_continue_at,
    msg_not_for_uploads,
    msg_too_old,
    msg_upload_only,
    msg_window,
    validate_create,
)
from .rules import Problem, check_window, is_number
from .sonic_tools import SonicToolRoutes, midi_notes
from .tables import SONIC_REQUIRED

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

# §3.1 rules about the clip a /sonic/create task builds on.
_UPLOAD_ONLY = ("extend_upload_music", "cover_upload_music", "add_vocals", "add_instrumental")
_GENERATED_ONLY = ("extend_music", "cover_music")
_RECENT_ONLY = ("remaster", "add_vocals", "add_instrumental")  # "< 24 h old"
_EXTENDS = ("extend_music", "extend_upload_music")
_OVERPAINTS = ("add_vocals", "add_instrumental")


class MusicAPISimulator(SonicToolRoutes, FamilyRoutes):
    def __init__(self, config: SimulatorConfig | None = None) -> None:
        super().__init__(config)
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None

    # ------------------------------------------------------------------ control

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("the simulator is not running")
        return self._base_url

    def make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        post, get = app.router.add_post, app.router.add_get
        post(f"{API}/sonic/create", self._handle_create)
        for family in ("sonic", "producer", "nuro", "riffusion", "studio"):
            handler = (
                self._handle_task if family == "sonic" else getattr(self, f"_handle_{family}_task")
            )
            get(f"{API}/{family}/task/{{task_id}}", handler)
            get(f"{API}/{family}/task/", self._handle_missing_task_id)
            get(f"{API}/{family}/task", self._handle_missing_task_id)
        get(f"{API}/get-credits", self._handle_credits)
        post(f"{API}/sonic/lyrics", self._handle_lyrics)
        # Sonic: one-shot uploads, edits, personas, sync utilities (§3.2–§3.15).
        for path, handler in (
            ("upload", self._handle_upload),
            ("upload-extend", self._handle_upload_extend),
            ("upload-cover", self._handle_upload_cover),
            ("sample", self._handle_sample),
            ("mashup", self._handle_mashup),
            ("stems/basic", self._handle_stems_basic),
            ("stems/full", self._handle_stems_full),
            ("replace-section", self._handle_replace_section),
            ("persona", self._handle_persona),
            ("create-voice", self._handle_create_voice),
            ("bpm", self._handle_bpm),
            ("vox", self._handle_vox),
            ("wav", self._handle_wav),
            ("midi", self._handle_midi),
            ("aligned-lyrics", self._handle_aligned_lyrics),
            ("upsample-tags", self._handle_upsample_tags),
        ):
            post(f"{API}/sonic/{path}", handler)
        post(f"{API}/producer/create", self._handle_producer_create)
        post(f"{API}/producer/upload", self._handle_producer_upload)
        post(f"{API}/producer/download", self._handle_producer_download)
        post(f"{API}/nuro/create", self._handle_nuro_create)
        post(f"{API}/riffusion/create", self._handle_riffusion_create)
        post(f"{API}/riffusion/upload", self._handle_riffusion_upload)
        post(f"{API}/studio/create", self._handle_studio_create)
        # Legacy "suno" names the SDK still calls (§3.19).
        post(f"{API}/suno/create", self._handle_create)
        get(f"{API}/suno/clip/{{task_id}}", self._handle_task)
        post(f"{API}/suno/make-lyrics", self._handle_suno_make_lyrics)
        get(f"{API}/suno/get-lyrics/{{task_id}}", self._handle_suno_get_lyrics)
        post(f"{API}/suno/get-song", self._handle_suno_get_song)
        get("/files/{name}", self._handle_file)
        # Not part of MusicAPI: exact task timing for benchmarks in other processes.
        get("/_sim/tasks/{task_id}", self._handle_sim_task)
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

    # ------------------------------------------------------------------ /sonic/create

    async def _handle_create(self, request: web.Request) -> web.Response:
        body = await self._read_object(request)
        if body is None:
            return self._error(400, "The request body must be a JSON object.")
        if body.get("prompt") is None and isinstance(body.get("lyrics"), str):
            # [sdk] sends ``lyrics`` as an alias of ``prompt``; ``prompt`` wins when both are set.
            body = {**body, "prompt": body["lyrics"]}
        problem = validate_create(body, self.config.limits)
        if problem is not None:
            return self._error(*problem)
        task_type = body.get("task_type", "create_music")
        source, problem = self._create_source(task_type, body)
        text, refused = self._screen(body, problem)
        if refused is not None:
            return refused
        cost = float(TASK_COSTS[task_type])
        if not self._charge(cost):
            return self._no_credits()
        task = self._new_task(task_type, body, cost, f"{text} {inherited_magic(source)}".strip())
        return self._accepted(task)

    def _create_source(
        self, task_type: str, body: dict[str, Any]
    ) -> tuple[SimClip | None, Problem | None]:
        """The clip (or persona) a task builds on, checked against the §3.1 rules."""
        if task_type == "persona_music":
            return None, self._persona_problem(body.get("persona_id"))
        if "continue_clip_id" not in SONIC_REQUIRED[task_type]:
            return None, None
        clip, problem = self._source(body.get("continue_clip_id"), "continue_clip_id")
        if problem is not None or clip is None:
            return None, problem
        if task_type in _UPLOAD_ONLY and not clip.uploaded:
            return None, (400, msg_upload_only(task_type))
        if task_type in _GENERATED_ONLY and clip.uploaded:
            return None, (400, msg_not_for_uploads(task_type))
        if task_type in _RECENT_ONLY and self._is_older_than_a_day(clip):
            return None, (400, msg_too_old(task_type))
        seconds = self._clip_seconds(clip)
        if task_type in _EXTENDS:
            at = body.get("continue_at")
            if not is_number(at) or not 0 < at < seconds:
                return None, (400, msg_continue_at(seconds))
        if task_type in _OVERPAINTS:
            window = check_window(body, "overpainting_start_s", "overpainting_end_s")
            if window is not None or body["overpainting_start_s"] >= seconds:
                return None, (
                    400,
                    msg_window("overpainting_start_s", "overpainting_end_s", seconds),
                )
        return clip, None

    def _new_task(self, task_type: str, body: dict[str, Any], cost: float, text: str) -> SimTask:
        task = self._open_task(family="sonic", kind=task_type, body=body, cost=cost, text=text)
        count = 1 if task_type == "concat_music" else 2  # concat returns the one full song
        tone = self._tone_base(task)
        for index in range(count):
            clip = self._song_clip(body, index, tone, text)
            clip.will_fail = index == 1 and MAGIC_HALF_FAIL in text
            self._add_clip(task, clip)
        return task

    # ------------------------------------------------------------------ /sonic/task/{id}

    async def _handle_missing_task_id(self, request: web.Request) -> web.Response:
        return self._error(400, MSG_MISSING_TASK_ID)

    async def _handle_task(self, request: web.Request) -> web.Response:
        task_id = request.match_info["task_id"]
        task = self.tasks.get(task_id)
        if task is None or task.family != "sonic":
            return self._error(self.config.not_found_status, MSG_TASK_NOT_FOUND)
        self.polls_by_task[task_id] = self.polls_by_task.get(task_id, 0) + 1
        progress = task.progress()
        voice = task.task_type == "create_voice"
        if self.config.not_ready_202 and (progress < NOT_READY_UNTIL or (voice and progress < 1.0)):
            # A voice has no clips to show while it trains, so it is "not ready" throughout.
            return web.json_response({"type": "not_ready"}, status=202)
        if progress >= 1.0 and task.fail_message is not None:
            if self.config.failure_mode == "type" or voice:
                return web.json_response({"type": "failed", "error": task.fail_message})
        data = self._sonic_data(self._origin(request), task, progress)
        return web.json_response({"code": 200, "data": data, "message": "success"})

    def _webhook_data(self, task: SimTask) -> Any:
        # File URLs of a webhook point at the simulator itself: there is no request to follow.
        origin = self._base_url or ""
        if task.family == "producer":
            return self._producer_data(origin, task, task.progress())
        if task.family == "nuro":
            return self._nuro_flat(origin, task)
        return self._sonic_data(origin, task, task.progress())

    def _sonic_data(self, origin: str, task: SimTask, progress: float) -> Any:
        """The ``data`` of a Sonic poll (and of its webhooks): clips, auto_concat pairs, or a
        create-voice result."""
        if task.task_type == "create_voice":
            if progress < 1.0:
                return None
            return {"persona_id": task.extra["persona_id"], "name": task.extra["name"]}
        pair_key = task.extra.get("pair_key")
        if pair_key:
            return [
                {
                    pair_key: self._clip_json(origin, part, task.clip_state(part, progress)),
                    # "full stays null while the concat step is still running" (§3.13)
                    "full": self._clip_json(origin, full, task.clip_state(full, progress))
                    if task.visible(full, progress)
                    else None,
                }
                for part, full in zip(task.clips, task.fulls, strict=True)
            ]
        return [
            self._clip_json(origin, c, task.clip_state(c, progress))
            for c in task.clips
            if task.visible(c, progress)
        ]

    # ------------------------------------------------------------------ credits, lyrics, files

    async def _handle_credits(self, request: web.Request) -> web.Response:
        return web.json_response({"credits": number(self.balance), "extra_credits": 0})

    async def _handle_lyrics(self, request: web.Request) -> web.Response:
        body = await self._read_object(request) or {}
        description = body.get("description")
        if not isinstance(description, str) or not description.strip():
            return self._error(400, MSG_DESCRIPTION_REQUIRED)
        if len(description) >= 120:
            return self._error(400, MSG_DESCRIPTION_LENGTH)
        if MAGIC_LYRICS_MODERATE in description:
            return self._error(403, MSG_LYRICS_INAPPROPRIATE)
        topic = description.strip()
        results = [
            {
                "title": f"{topic.title()[:60]} ({label})",
                "lyrics": f"[Verse]\nTake {label}: a song about {topic}\n\n[Chorus]\n"
                f"Sing it loud, version {label}",
            }
            for label in ("A", "B")
        ]
        return web.json_response({"code": 200, "results": results, "message": "success"})

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
        choices=("timestamped", "legacy", "both"),
        default="timestamped",
        help="how webhooks to loopback receivers are signed (REFERENCE §5)",
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
