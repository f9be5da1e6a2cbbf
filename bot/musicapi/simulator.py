"""A local MusicAPI server, faithful to REFERENCE.md, for tests, benchmarks and demo mode.

Serves the endpoints the bot uses (``/sonic/create``, ``/sonic/task/{id}``, ``/get-credits``,
``/sonic/lyrics``) with the documented envelopes and verbatim error texts, plus playable audio
and cover art on loopback ``/files/...`` routes.

Where the docs leave two readings open, a knob picks one (defaults follow the newest sources):
``not_ready_202`` (202 vs 200-with-pending-clips), ``not_found_status`` (404 vs 400),
``failure_mode`` (top-level ``type`` vs clip ``state: failed``), ``limits`` (newest vs the error
table's), ``error_key`` (message / error / detail) and ``submit_includes_code``.

Magic words in the prompt, description, title or tags make tests deterministic:
``[sim:fail]`` fails the task at the end, ``[sim:half-fail]`` fails only the second clip,
``[sim:moderate]`` / ``[sim:lyrics-moderate]`` are refused with the documented 403s and
``[sim:slow]`` takes ten times the generation time.

Run standalone: ``python -m bot.musicapi.simulator --port 8765 --generation-time 3``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import random
import signal
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

from .sim_media import SAMPLE_RATE, png_bytes, wav_bytes, wav_frames
from .sim_protocol import (
    ACCEPTED_MODELS,
    DEFAULT_TEXTS,
    MAGIC_FAIL,
    MAGIC_HALF_FAIL,
    MAGIC_LYRICS_MODERATE,
    MAGIC_MODERATE,
    MAGIC_SLOW,
    MSG_ARTIST,
    MSG_AUTH_FORMAT,
    MSG_AUTH_MISSING,
    MSG_CREDITS,
    MSG_DESCRIPTION_LENGTH,
    MSG_DESCRIPTION_REQUIRED,
    MSG_LYRICS_INAPPROPRIATE,
    MSG_MISSING_TASK_ID,
    MSG_MV,
    MSG_SERVER,
    MSG_TASK_FAILED,
    MSG_TASK_NOT_FOUND,
    MSG_TIMEOUT,
    MSG_WRONG_KEY,
    NOT_READY_UNTIL,
    TASK_COSTS,
    SimClip,
    SimTask,
    text_of,
    validate_create,
)

__all__ = [
    "ACCEPTED_MODELS",
    "MSG_ARTIST",
    "MSG_AUTH_FORMAT",
    "MSG_AUTH_MISSING",
    "MSG_CREDITS",
    "MSG_LYRICS_INAPPROPRIATE",
    "MSG_MV",
    "MSG_SERVER",
    "MSG_TIMEOUT",
    "TASK_COSTS",
    "BackgroundSimulator",
    "MusicAPISimulator",
    "SimClip",
    "SimTask",
    "SimulatorConfig",
    "main",
]

log = logging.getLogger("bot.musicapi.simulator")

API = "/api/v1"

_TONES = (262, 294, 330, 349, 392, 440, 494, 523, 587, 659)


@dataclass
class SimulatorConfig:
    """Behaviour knobs; ``sim.config`` may be changed while the server runs.

    Probabilities (``failure_rate``, ``error_rate_*``, ``malformed_rate``) are 0..1 per request
    (per task for ``failure_rate``), drawn from a ``seed``-able RNG. Times are seconds.
    """

    generation_time: float = 2.0
    failure_rate: float = 0.0
    latency: float = 0.0
    error_rate_429: float = 0.0
    error_rate_5xx: float = 0.0
    malformed_rate: float = 0.0
    credits: float = 10000.0
    api_key: str | None = None
    not_found_status: int = 404
    # Pad each WAV to at least this many bytes (to test "too big to attach").
    audio_bytes_size: int | None = None
    audio_seconds: float = 2.5
    not_ready_202: bool = True
    failure_mode: Literal["type", "clips"] = "type"
    limits: Literal["newest", "legacy"] = "newest"
    error_key: Literal["message", "error", "detail"] = "message"
    submit_includes_code: bool = False
    retry_after: float | None = 1.0  # header sent with random 429s
    seed: int | None = None
    # Cap on ``requests``/``file_requests`` so a long demo run (MUSICAPI_SIMULATE=1) does not
    # grow without bound; the oldest entries are dropped first.
    max_recorded_requests: int = 100_000
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)


@dataclass
class _Rule:
    prefix: str
    remaining: int
    status: int = 0
    body: str | dict[str, Any] | None = None
    headers: dict[str, str] | None = None
    seconds: float = 0.0


def _number(value: float) -> int | float:
    # The docs show whole balances as JSON integers ({"credits": 50}).
    return int(value) if float(value).is_integer() else value


def _iso_now() -> str:
    now = dt.datetime.now(dt.UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


class MusicAPISimulator:
    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.balance: float = float(self.config.credits)
        self.requests: list[tuple[str, str, Any]] = []  # API calls only
        self.file_requests: list[str] = []  # /files/... paths, kept apart from API traffic
        self.polls_by_task: dict[str, int] = {}
        self.tasks: dict[str, SimTask] = {}
        self._clips: dict[str, tuple[SimTask, SimClip]] = {}
        self._injections: list[_Rule] = []
        self._stalls: list[_Rule] = []
        self._awaiting_refund: list[SimTask] = []
        self._request_count = 0
        self._rng = random.Random(self.config.seed)
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self._stopping = asyncio.Event()

    # ------------------------------------------------------------------ control

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("the simulator is not running")
        return self._base_url

    def completed_at(self, task_id: str) -> float:
        """Monotonic time at which the task finishes (or fails), by construction."""
        return self.tasks[task_id].completed_at

    def inject(
        self,
        path_prefix: str,
        status: int,
        count: int = 1,
        body: str | dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next ``count`` requests under ``path_prefix`` with this response."""
        self._injections.append(_Rule(path_prefix, count, status, body, headers))

    def stall(self, path_prefix: str, seconds: float, count: int = 1) -> None:
        """Delay the next ``count`` requests under ``path_prefix`` by ``seconds``."""
        self._stalls.append(_Rule(path_prefix, count, seconds=seconds))

    def make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_post(f"{API}/sonic/create", self._handle_create)
        app.router.add_get(f"{API}/sonic/task/{{task_id}}", self._handle_task)
        app.router.add_get(f"{API}/sonic/task/", self._handle_missing_task_id)
        app.router.add_get(f"{API}/sonic/task", self._handle_missing_task_id)
        app.router.add_get(f"{API}/get-credits", self._handle_credits)
        app.router.add_post(f"{API}/sonic/lyrics", self._handle_lyrics)
        app.router.add_get("/files/{name}", self._handle_file)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._stopping = asyncio.Event()
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
        self._base_url = None

    # ------------------------------------------------------------------ plumbing

    def _error(self, status: int, text: str, headers: dict[str, str] | None = None) -> web.Response:
        return web.json_response({self.config.error_key: text}, status=status, headers=headers)

    async def _sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    @staticmethod
    def _take(rules: list[_Rule], path: str) -> _Rule | None:
        for rule in rules:
            if path.startswith(rule.prefix):
                rule.remaining -= 1
                if rule.remaining <= 0:
                    rules.remove(rule)
                return rule
        return None

    def _injected_response(self, rule: _Rule) -> web.Response:
        headers = dict(rule.headers or {})
        if rule.status == 429 and "Retry-After" not in headers:
            headers["Retry-After"] = "1"
        if isinstance(rule.body, str):
            return web.Response(
                status=rule.status, text=rule.body, content_type="text/plain", headers=headers
            )
        if isinstance(rule.body, dict):
            return web.json_response(rule.body, status=rule.status, headers=headers)
        text = DEFAULT_TEXTS.get(rule.status, f"HTTP {rule.status}")
        return self._error(rule.status, text, headers)

    def _random_fault(self) -> web.Response | None:
        cfg = self.config
        if cfg.error_rate_429 and self._rng.random() < cfg.error_rate_429:
            headers = {}
            if cfg.retry_after is not None:
                headers["Retry-After"] = str(_number(cfg.retry_after))
            return self._error(429, DEFAULT_TEXTS[429], headers)
        if cfg.error_rate_5xx and self._rng.random() < cfg.error_rate_5xx:
            status = self._rng.choice((500, 502, 503))
            return self._error(status, DEFAULT_TEXTS[status])
        if cfg.malformed_rate and self._rng.random() < cfg.malformed_rate:
            return web.Response(
                status=200,
                text="<html><body>upstream hiccup</body></html>",
                content_type="text/html",
            )
        return None

    def _check_auth(self, request: web.Request) -> web.Response | None:
        header = request.headers.get("Authorization")
        if not header:
            return self._error(401, MSG_AUTH_MISSING)
        scheme, _, token = header.partition(" ")
        if scheme != "Bearer" or not token.strip():
            return self._error(401, MSG_AUTH_FORMAT)
        expected = self.config.api_key
        if expected is not None and not hmac.compare_digest(
            token.strip().encode(), expected.encode()
        ):
            return self._error(401, MSG_WRONG_KEY)
        return None

    def _settle(self) -> None:
        """Refund tasks whose failure has become visible (MusicAPI refunds automatically)."""
        if not self._awaiting_refund:
            return
        now = self.config.clock()
        due = [t for t in self._awaiting_refund if now >= t.completed_at]
        for task in due:
            self._awaiting_refund.remove(task)
            task.refunded = True
            self.balance += task.cost

    @web.middleware
    async def _middleware(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        path = request.path
        is_api = path.startswith("/api/")
        payload: Any = None
        if request.can_read_body:
            raw = await request.read()  # cached: handlers can still read it
            try:
                payload = json.loads(raw) if raw else None
            except ValueError:
                payload = None
        self._request_count += 1
        request_id = f"sim-{self._request_count}"
        if is_api:
            self._record(self.requests, (request.method, path, payload))
        else:
            self._record(self.file_requests, path)
        response = await self._dispatch(request, handler, path, is_api)
        if is_api:
            # Like the real edge, every API answer carries an id to quote to support.
            response.headers.setdefault("x-request-id", request_id)
        return response

    def _record(self, log_list: list[Any], entry: Any) -> None:
        log_list.append(entry)
        excess = len(log_list) - self.config.max_recorded_requests
        if excess > 0:
            del log_list[:excess]

    async def _dispatch(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
        path: str,
        is_api: bool,
    ) -> web.StreamResponse:
        await self._sleep(self.config.latency)
        stall = self._take(self._stalls, path)
        if stall is not None:
            await self._sleep(stall.seconds)
        injected = self._take(self._injections, path)
        if injected is not None:
            return self._injected_response(injected)
        if not is_api:
            return await handler(request)

        fault = self._random_fault()
        if fault is not None:
            return fault
        denied = self._check_auth(request)
        if denied is not None:
            return denied
        self._settle()
        try:
            return await handler(request)
        except web.HTTPException as exc:
            # Unknown routes and methods: keep the JSON envelope of the real API.
            return self._error(exc.status, exc.reason)

    # ------------------------------------------------------------------ /sonic/create

    async def _read_object(self, request: web.Request) -> dict[str, Any] | None:
        try:
            body = await request.json()
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    async def _handle_create(self, request: web.Request) -> web.Response:
        body = await self._read_object(request)
        if body is None:
            return self._error(400, "The request body must be a JSON object.")
        problem = validate_create(body, self.config.limits)
        if problem is not None:
            return self._error(*problem)
        text = text_of(body)
        if MAGIC_LYRICS_MODERATE in text:
            return self._error(403, MSG_LYRICS_INAPPROPRIATE)
        if MAGIC_MODERATE in text:
            return self._error(403, MSG_ARTIST)
        task_type = body.get("task_type", "create_music")
        cost = float(TASK_COSTS[task_type])
        if self.balance < cost:
            return self._error(403, MSG_CREDITS)
        self.balance -= cost
        task = self._new_task(task_type, body, cost, text)
        payload: dict[str, Any] = {"message": "success", "task_id": task.task_id}
        if self.config.submit_includes_code:
            payload = {"code": 200, **payload}
        return web.json_response(payload)

    def _new_task(self, task_type: str, body: dict[str, Any], cost: float, text: str) -> SimTask:
        cfg = self.config
        generation_time = cfg.generation_time * (10 if MAGIC_SLOW in text else 1)
        fails = MAGIC_FAIL in text or (
            cfg.failure_rate > 0 and self._rng.random() < cfg.failure_rate
        )
        task = SimTask(
            task_id=str(uuid.uuid4()),
            task_type=task_type,
            body=body,
            created_at=cfg.clock(),
            generation_time=generation_time,
            cost=cost,
            clips=[],
            fail_message=MSG_TASK_FAILED if fails else None,
            clock=cfg.clock,
        )
        count = 1 if task_type == "concat_music" else 2  # concat returns the one full song
        tone_base = hashlib.sha256(task.task_id.encode()).digest()[0]
        for index in range(count):
            clip = self._new_clip(body, index, tone_base)
            clip.will_fail = index == 1 and MAGIC_HALF_FAIL in text
            task.clips.append(clip)
            self._clips[clip.clip_id] = (task, clip)
        self.tasks[task.task_id] = task
        if task.fail_message is not None:
            # Only failing tasks are tracked for refunds, so settling stays cheap under load.
            self._awaiting_refund.append(task)
        return task

    def _new_clip(self, body: dict[str, Any], index: int, tone_base: int) -> SimClip:
        clip_id = str(uuid.uuid4())
        digest = hashlib.sha256(clip_id.encode()).digest()
        # In custom mode ``prompt`` is lyrics, so it is only a description with auto_lyrics.
        description = body.get("gpt_description_prompt") or (
            body.get("prompt") if body.get("auto_lyrics") else ""
        )
        title = body.get("title") or " ".join(str(description).split()[:4]).title() or "Sim Song"
        if body.get("make_instrumental"):
            lyrics = ""
        elif body.get("custom_mode") and not body.get("auto_lyrics") and body.get("prompt"):
            lyrics = body["prompt"]
        else:
            lyrics = (
                f"[Verse]\nA simulated song about {description or 'nothing much'}\n\n[Chorus]\n"
            )
            lyrics += "La la la, the simulator sings"
        mv = str(body.get("mv") or "sonic-v4-5")
        return SimClip(
            clip_id=clip_id,
            index=index,
            title=str(title),
            tags=str(body.get("tags") or "pop, simulated"),
            lyrics=str(lyrics),
            mv="chirp-" + mv.removeprefix("sonic-"),
            created_at=_iso_now(),
            gpt_description_prompt=body.get("gpt_description_prompt"),
            negative_tags=body.get("negative_tags"),
            style_weight=body.get("style_weight"),
            weirdness_constraint=body.get("weirdness_constraint"),
            # Offsetting by index keeps the two clips of a task audibly different.
            frequency=_TONES[(tone_base + 3 * index) % len(_TONES)],
            colour=(digest[0], digest[1], digest[2]),
        )

    # ------------------------------------------------------------------ /sonic/task/{id}

    def _clip_frames(self, clip: SimClip) -> int:
        return wav_frames(
            self.config.audio_seconds + 0.5 * clip.index, self.config.audio_bytes_size
        )

    def _clip_json(self, request: web.Request, clip: SimClip, state: str) -> dict[str, Any]:
        origin = f"{request.scheme}://{request.host}"
        has_audio = state in ("streaming", "succeeded")
        duration = self._clip_frames(clip) / SAMPLE_RATE
        return {
            "clip_id": clip.clip_id,
            "state": state,
            "title": clip.title,
            "tags": clip.tags,
            "lyrics": clip.lyrics,
            "image_url": f"{origin}/files/image_{clip.clip_id}.png" if has_audio else "",
            "audio_url": f"{origin}/files/{clip.clip_id}.wav" if has_audio else "",
            "video_url": None,
            "created_at": clip.created_at,
            "gpt_description_prompt": clip.gpt_description_prompt,
            # Observed upstream as a decimal string, and null until the clip is final.
            "duration": f"{duration:.2f}" if state == "succeeded" else None,
            "negative_tags": clip.negative_tags,
            "style_weight": clip.style_weight,
            "weirdness_constraint": clip.weirdness_constraint,
            "mv": clip.mv,
        }

    async def _handle_missing_task_id(self, request: web.Request) -> web.Response:
        return self._error(400, MSG_MISSING_TASK_ID)

    async def _handle_task(self, request: web.Request) -> web.Response:
        task_id = request.match_info["task_id"]
        task = self.tasks.get(task_id)
        if task is None:
            return self._error(self.config.not_found_status, MSG_TASK_NOT_FOUND)
        self.polls_by_task[task_id] = self.polls_by_task.get(task_id, 0) + 1
        progress = task.progress()
        if progress < NOT_READY_UNTIL and self.config.not_ready_202:
            return web.json_response({"type": "not_ready"}, status=202)
        if progress >= 1.0 and task.fail_message is not None and self.config.failure_mode == "type":
            return web.json_response({"type": "failed", "error": task.fail_message})
        data = [self._clip_json(request, c, task.clip_state(c, progress)) for c in task.clips]
        return web.json_response({"code": 200, "data": data, "message": "success"})

    # ------------------------------------------------------------------ credits, lyrics, files

    async def _handle_credits(self, request: web.Request) -> web.Response:
        return web.json_response({"credits": _number(self.balance), "extra_credits": 0})

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
        if name.startswith("image_") and name.endswith(".png"):
            found = self._clips.get(name.removeprefix("image_").removesuffix(".png"))
            if found is not None:
                return web.Response(body=png_bytes(found[1].colour), content_type="image/png")
        elif name.endswith(".wav"):
            found = self._clips.get(name.removesuffix(".wav"))
            if found is not None:
                clip = found[1]
                audio = wav_bytes(clip.frequency, self._clip_frames(clip))
                return web.Response(body=audio, content_type="audio/wav")
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
    parser.add_argument("--failure-rate", type=float, default=0.0)
    parser.add_argument("--credits", type=float, default=SimulatorConfig.credits)
    parser.add_argument("--latency", type=float, default=0.0)
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
        failure_rate=args.failure_rate,
        credits=args.credits,
        latency=args.latency,
        api_key=api_key,
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(MusicAPISimulator(config), args.host, args.port))


if __name__ == "__main__":
    main()
