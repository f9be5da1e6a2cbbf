"""The simulator's shared machinery: configuration, request plumbing (auth, injected faults,
stalls, request log), billing, the task/clip registry and the clip JSON every family builds on.

``SimCore`` is the one state the handlers share: each module in ``handlers/`` holds a
reference to it and lists its routes, and ``server.py`` serves their tables as one.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import hmac
import json
import logging
import math
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

from .media import SAMPLE_RATE, wav_frames
from .protocol import (
    DEFAULT_TEXTS,
    INHERITED_MAGIC,
    MAGIC_FAIL,
    MAGIC_SLOW,
    MSG_AUTH_FORMAT,
    MSG_AUTH_MISSING,
    MSG_CLIP_NOT_READY,
    MSG_CREDITS,
    MSG_MISSING_TASK_ID,
    MSG_NURO_GONE,
    MSG_PERSONA_UNKNOWN,
    MSG_RIFFUSION_GONE,
    MSG_STUDIO_GONE,
    MSG_TASK_FAILED,
    MSG_TASK_NOT_FOUND,
    MSG_WRONG_KEY,
    NURO_AUTH,
    NURO_USAGE_LIMIT,
    SimClip,
    SimTask,
    msg_clip_unknown,
    text_of,
)
from .rules import moderation_refusal
from .webhooks import (
    WEBHOOK_PATHS,
    WebhookDelivery,
    WebhookScheme,
    WebhookSender,
    check_webhook_fields,
)

__all__ = ["API", "RETIRABLE", "TONES", "SimCore", "SimPersona", "SimulatorConfig", "iso_now"]

log = logging.getLogger("bot.simulator")

API = "/api/v1"
STREAM_PREFIX = "stream_"
_FILE_KINDS = {"wav": "audio", "mp3": "audio", "png": "image", "mid": "midi"}
TONES = (262, 294, 330, 349, 392, 440, 494, 523, 587, 659)
DAY_S = 24 * 3600.0
# Families (and one task type) the ``retired`` knob can turn into 410 Gone
# (docs/musicapi/open-questions.md E.24, E.26, E.27).
RETIRABLE = ("nuro", "riffusion", "studio", "producer_cover")
_GONE_TEXTS = {"nuro": MSG_NURO_GONE, "riffusion": MSG_RIFFUSION_GONE, "studio": MSG_STUDIO_GONE}


@dataclass
class SimulatorConfig:
    """Behaviour knobs; ``sim.config`` may be changed while the server runs.

    Probabilities (``failure_rate``, ``error_rate_*``, ``malformed_rate``) are 0..1 per request
    (per task for ``failure_rate``), drawn from a ``seed``-able RNG. Times are seconds.
    """

    generation_time: float = 2.0
    # Each task takes generation_time × uniform(1 - spread, 1 + spread): real songs vary.
    generation_spread: float = 0.0
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
    limits: Literal["newest", "error_table"] = "newest"
    error_key: Literal["message", "error", "detail"] = "message"
    submit_includes_code: bool = False
    retry_after: float | None = 1.0  # header sent with random 429s
    # One seed makes a run repeatable: faults, failures, task times and every id (and what is
    # derived from ids: BPM, tones, colours). None draws a fresh one, so two runs never share
    # ids (a demo bot restarted against a new simulator keeps its database).
    seed: int | None = None
    # Cap on ``requests``/``file_requests`` so a long demo run (MUSICAPI_SIMULATE=1) does not
    # grow without bound; the oldest entries are dropped first.
    max_recorded_requests: int = 100_000
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    # How long a synchronous upload takes (the real one: about 20 s,
    # docs/musicapi/protocol.md §3.14).
    upload_time: float = 0.0
    # The first N /sonic/midi calls per clip answer 202 "not ready yet" (§3.9).
    midi_not_ready_calls: int = 0
    # Stem counts: basic 2 ([site]/[sdk]) or 4 (a 3p guide); full 12 ([sister]) or 24 (a live
    # musicapi test). docs/musicapi/open-questions.md A.8.
    basic_stems: Literal[2, 4] = 2
    full_stems: Literal[12, 24] = 12
    # Any of RETIRABLE: those answer 410 Gone.
    retired: frozenset[str] = frozenset()
    # HTTP status of a one-shot body whose step failed before a task existed; the SDK types it
    # as a normal (200) result, but the docs do not say.
    step_failure_status: int = 200
    # docs/musicapi/open-questions.md D.20: does auto_concat add the 2-credit concat charge?
    auto_concat_charges: bool = False
    # docs/musicapi/open-questions.md E.26: must Nuro v2.0 segment durations add up to ``duration``?
    nuro_segments_must_sum: bool = True
    # CDN faults on the /files/ URLs (audio, cover art, MIDI): each file answers
    # ``cdn_failure_status`` to its first ``cdn_failures`` fetches then serves it, or fails every
    # time with ``cdn_always_fail``. A failing fetch first hangs ``cdn_hang_s`` seconds (inf:
    # never answers, so the client's timeout decides). ``cdn_fault_kinds`` picks the files hit.
    cdn_failures: int = 0
    cdn_always_fail: bool = False
    cdn_failure_status: int = 503
    cdn_hang_s: float = 0.0
    cdn_fault_kinds: frozenset[str] = frozenset({"audio", "image", "midi"})
    # Hostile CDN answers for the files ``cdn_fault_kinds`` picks: ``cdn_serves_text`` answers
    # 200 with an HTML page instead of the file; ``cdn_redirect_to`` answers 302 to that URL
    # (another local port, a metadata address) instead of the file.
    cdn_serves_text: bool = False
    cdn_redirect_to: str | None = None
    # Webhooks (docs/musicapi/protocol.md §5; see webhooks.py). Signature scheme: the newest guide's
    # timestamped one, the older body-only X-Signature, or both sets of headers.
    webhook_scheme: WebhookScheme = "timestamped"
    # Signs deliveries of requests without webhook_secret; the customer never sees it (§5).
    webhook_default_secret: str = "sim-platform-default-secret"
    # Faults: events never sent (e.g. {"song.completed"}), a seeded share of deliveries lost,
    # extra copies of each delivery (same id and bytes), a delay after each transition.
    webhook_drop: frozenset[str] = frozenset()
    webhook_drop_rate: float = 0.0
    webhook_duplicates: int = 0
    webhook_delay: float = 0.0
    # Retries of a POST that failed or was not answered 2xx, with the same id (undocumented
    # upstream: docs/musicapi/open-questions.md F.29).
    webhook_retries: int = 0
    webhook_retry_delay: float = 1.0
    webhook_timeout: float = 10.0
    # Tasks finish at once and their final webhook is delivered before the create response.
    webhook_early: bool = False
    # The clock of X-Webhook-Timestamp (unix seconds): a test may skew it.
    webhook_clock: Callable[[], float] = field(default=time.time, repr=False)


@dataclass
class SimPersona:
    persona_id: str
    name: str
    ready_at: float  # a create-voice persona exists once its task has succeeded


@dataclass
class _Rule:
    prefix: str
    remaining: int
    status: int = 0
    body: str | dict[str, Any] | None = None
    headers: dict[str, str] | None = None
    seconds: float = 0.0


def number(value: float) -> int | float:
    # The docs show whole balances as JSON integers ({"credits": 50}).
    return int(value) if float(value).is_integer() else value


def iso_now() -> str:
    now = dt.datetime.now(dt.UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def inherited_magic(clip: SimClip | None) -> str:
    if clip is None:
        return ""
    return " ".join(word for word in INHERITED_MAGIC if word in clip.magic)


class SimCore:
    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.balance: float = float(self.config.credits)
        self.requests: list[tuple[str, str, Any]] = []  # API calls only
        self.file_requests: list[str] = []  # /files/... paths, kept apart from API traffic
        self.polls_by_task: dict[str, int] = {}
        self.tasks: dict[str, SimTask] = {}
        self.personas: dict[str, SimPersona] = {}
        self.vox_ids: dict[str, str] = {}  # vox_audio_id -> clip id
        self._clips: dict[str, tuple[SimTask, SimClip]] = {}
        self._midi_calls: dict[str, int] = {}
        self.cdn_fetches: dict[str, int] = {}  # file name -> fetches that the fault knobs saw
        self._aligned_paid: set[str] = set()
        self._suno_lyrics: dict[str, dict[str, Any]] = {}
        self._injections: list[_Rule] = []
        self._stalls: list[_Rule] = []
        self._awaiting_refund: list[SimTask] = []
        self._request_count = 0
        self._rng = random.Random(self.config.seed)
        # Separate, so that drawing task times never shifts the fault-injection sequence.
        self._timing_rng = random.Random(self.config.seed)
        # Task, clip and persona ids, and through them everything derived from an id (tone,
        # cover colour, BPM, MIDI notes), come from the seed too: a seeded run is repeatable.
        seed = self.config.seed
        self._id_rng = random.Random(None if seed is None else f"ids-{seed}")
        self._stopping = asyncio.Event()
        self.webhooks = WebhookSender(self.config, self._webhook_data)

    # ------------------------------------------------------------------ control

    def new_id(self) -> uuid.UUID:
        """A version-4 UUID drawn from the seeded generator."""
        return uuid.UUID(int=self._id_rng.getrandbits(128), version=4)

    @property
    def webhook_deliveries(self) -> list[WebhookDelivery]:
        """Every webhook POST made (and every one deliberately dropped), oldest first."""
        return self.webhooks.deliveries

    async def deliver_due_webhooks(self) -> None:
        """Send the webhooks due on the simulator's clock now and wait for them (for tests that
        move a fake clock)."""
        await self.webhooks.deliver_due()

    def _webhook_data(self, task: SimTask) -> Any:
        """The ``data`` of a webhook for ``task``: defined where the poll shapes are."""
        raise NotImplementedError

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

    def clip(self, clip_id: str) -> SimClip:
        """A clip the simulator made or was given (uploads), for tests to inspect."""
        return self._clips[clip_id][1]

    # ------------------------------------------------------------------ plumbing

    def _error(self, status: int, text: str, headers: dict[str, str] | None = None) -> web.Response:
        return web.json_response({self.config.error_key: text}, status=status, headers=headers)

    def _nuro_error(self, status: int, problem: tuple[str, str]) -> web.Response:
        """The Nuro catalogue's envelope (docs/musicapi/protocol.md §10.2):
        ``{type, description}``."""
        kind, description = problem
        return web.json_response({"type": kind, "description": description}, status=status)

    async def _sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        if math.isinf(seconds):
            await self._stopping.wait()  # until the simulator stops (or the client gives up)
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
                headers["Retry-After"] = str(number(cfg.retry_after))
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
            text = MSG_AUTH_MISSING
        else:
            scheme, _, token = header.partition(" ")
            expected = self.config.api_key
            if scheme != "Bearer" or not token.strip():
                text = MSG_AUTH_FORMAT
            elif expected is not None and not hmac.compare_digest(
                token.strip().encode(), expected.encode()
            ):
                text = MSG_WRONG_KEY
            else:
                return None
        if request.path.startswith(f"{API}/nuro/"):
            return self._nuro_error(401, NURO_AUTH)
        return self._error(401, text)

    def _retired(self, path: str) -> web.Response | None:
        for family, text in _GONE_TEXTS.items():
            if family in self.config.retired and path.startswith(f"{API}/{family}/"):
                return self._error(410, text)
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
        denied = self._check_auth(request) or self._retired(path)
        if denied is not None:
            return denied
        if request.method == "POST" and path in WEBHOOK_PATHS:
            invalid = await self._webhook_fields_problem(request, path)
            if invalid is not None:
                return invalid
        self._settle()
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            # Unknown routes and methods: keep the JSON envelope of the real API.
            return self._error(exc.status, exc.reason)
        if self.config.webhook_early:
            await self.webhooks.flush_early()
        return response

    async def _webhook_fields_problem(self, request: web.Request, path: str) -> web.Response | None:
        try:
            body = json.loads(await request.read() or b"null")
        except ValueError:
            return None  # the handler answers a body that is not JSON
        message = check_webhook_fields(body)
        if message is None:
            return None
        if path.startswith(f"{API}/nuro/"):
            return self._nuro_error(400, ("bad_request", message))
        return self._error(400, message)

    async def _read_object(self, request: web.Request) -> dict[str, Any] | None:
        try:
            body = await request.json()
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    @staticmethod
    def _origin(request: web.Request) -> str:
        return f"{request.scheme}://{request.host}"

    async def _cdn_fault(self, name: str) -> web.Response | None:
        """The injected CDN failure for this fetch of ``/files/<name>``, if any."""
        cfg = self.config
        kind = _FILE_KINDS.get(name.rpartition(".")[2])
        if kind is None or kind not in cfg.cdn_fault_kinds:
            return None
        if cfg.cdn_redirect_to is not None:
            return web.Response(status=302, headers={"Location": cfg.cdn_redirect_to})
        if cfg.cdn_serves_text:
            page = "<html><body>Access denied</body></html>"
            return web.Response(text=page, content_type="text/html")
        if not cfg.cdn_always_fail and cfg.cdn_failures <= 0:
            return None
        fetches = self.cdn_fetches[name] = self.cdn_fetches.get(name, 0) + 1
        if not cfg.cdn_always_fail and fetches > cfg.cdn_failures:
            return None
        await self._sleep(cfg.cdn_hang_s)
        text = DEFAULT_TEXTS.get(cfg.cdn_failure_status, f"HTTP {cfg.cdn_failure_status}")
        return web.Response(status=cfg.cdn_failure_status, text=text, content_type="text/plain")

    # ------------------------------------------------------------------ billing

    def _charge(self, cost: float) -> bool:
        """Deduct ``cost`` if the balance covers it; ``False`` (nothing deducted) otherwise."""
        if self.balance < cost:
            return False
        self.balance -= cost
        return True

    def _no_credits(self, nuro: bool = False) -> web.Response:
        if nuro:
            # Nuro's catalogue has no credit message; its account limit is the closest.
            return self._nuro_error(403, NURO_USAGE_LIMIT)
        return self._error(403, MSG_CREDITS)

    # ------------------------------------------------------------------ tasks and clips

    def _open_task(
        self,
        *,
        family: str,
        kind: str,
        body: dict[str, Any],
        cost: float,
        text: str,
        register: bool = True,
    ) -> SimTask:
        """A task on the shared timeline. ``text`` carries the magic words; ``register=False``
        keeps synchronous work (uploads) out of ``tasks``, so it can never be polled."""
        cfg = self.config
        generation_time = cfg.generation_time * (10 if MAGIC_SLOW in text else 1)
        if cfg.generation_spread > 0:
            spread = min(cfg.generation_spread, 1.0)
            generation_time *= self._timing_rng.uniform(1 - spread, 1 + spread)
        fails = MAGIC_FAIL in text or (
            cfg.failure_rate > 0 and self._rng.random() < cfg.failure_rate
        )
        task = SimTask(
            task_id=str(self.new_id()),
            task_type=kind,
            body=body,
            created_at=cfg.clock(),
            generation_time=generation_time if register else 0.0,
            cost=cost,
            clips=[],
            fail_message=MSG_TASK_FAILED if fails and register else None,
            clock=cfg.clock,
            family=family,
        )
        if register:
            self.tasks[task.task_id] = task
            if task.fail_message is not None:
                # Only failing tasks are tracked for refunds, so settling stays cheap under load.
                self._awaiting_refund.append(task)
            self.webhooks.subscribe(task)
        return task

    def _add_clip(self, task: SimTask, clip: SimClip, *, full: bool = False) -> SimClip:
        (task.fulls if full else task.clips).append(clip)
        self._clips[clip.clip_id] = (task, clip)
        return clip

    def _make_clip(
        self,
        *,
        index: int,
        title: str,
        tags: str = "",
        lyrics: str = "",
        mv: str = "",
        family: str = "sonic",
        seconds: float = 0.0,
        tone: int = 0,
        **extra: Any,
    ) -> SimClip:
        clip_id = str(self.new_id())
        digest = hashlib.sha256(clip_id.encode()).digest()
        return SimClip(
            clip_id=clip_id,
            index=index,
            title=title,
            tags=tags,
            lyrics=lyrics,
            mv=mv,
            created_at=iso_now(),
            gpt_description_prompt=extra.pop("gpt_description_prompt", None),
            negative_tags=extra.pop("negative_tags", None),
            style_weight=extra.pop("style_weight", None),
            weirdness_constraint=extra.pop("weirdness_constraint", None),
            frequency=TONES[(tone + 3 * index) % len(TONES)],
            colour=(digest[0], digest[1], digest[2]),
            seconds=seconds,
            family=family,
            born=self.config.clock(),
            **extra,
        )

    def _tone_base(self, task: SimTask) -> int:
        return hashlib.sha256(task.task_id.encode()).digest()[0]

    def _clip_frames(self, clip: SimClip) -> int:
        seconds = clip.seconds or self.config.audio_seconds + 0.5 * clip.index
        return wav_frames(seconds, self.config.audio_bytes_size)

    def _clip_seconds(self, clip: SimClip) -> float:
        """The length the clip reports, which is the length of the WAV it serves."""
        return self._clip_frames(clip) / SAMPLE_RATE

    def _register_upload(self, url: str, family: str) -> SimClip:
        """An uploaded clip: usable at once, remembered as uploaded (§3.1 rules)."""
        task = self._open_task(
            family=family, kind="upload", body={"url": url}, cost=0, text="", register=False
        )
        name = url.rstrip("/").rsplit("/", 1)[-1].rsplit(".", 1)[0] or "Upload"
        clip = self._make_clip(
            index=0,
            title=name.replace("-", " ").replace("_", " ").title()[:79],
            tags="uploaded",
            mv="upload",
            family=family,
            seconds=self.config.audio_seconds,
            tone=self._tone_base(task),
            uploaded=True,
            magic=url,
        )
        return self._add_clip(task, clip)

    def _source(
        self, clip_id: Any, field_name: str, family: str = "sonic"
    ) -> tuple[SimClip | None, tuple[int, str] | None]:
        """A finished clip of ``family`` to build on, or the 400 that refuses it."""
        found = self._clips.get(clip_id) if isinstance(clip_id, str) else None
        if found is None or found[1].family != family:
            return None, (400, msg_clip_unknown(field_name))
        task, clip = found
        progress = task.progress()
        if not task.visible(clip, progress) or task.clip_state(clip, progress) != "succeeded":
            return None, (400, MSG_CLIP_NOT_READY)
        return clip, None

    def _is_older_than_a_day(self, clip: SimClip) -> bool:
        return self.config.clock() - clip.born > DAY_S

    def _persona_ready(self, persona_id: Any) -> bool:
        persona = self.personas.get(persona_id) if isinstance(persona_id, str) else None
        return persona is not None and self.config.clock() >= persona.ready_at

    def _persona_problem(self, persona_id: Any) -> tuple[int, str] | None:
        return None if self._persona_ready(persona_id) else (400, MSG_PERSONA_UNKNOWN)

    def _clip_json(self, origin: str, clip: SimClip, state: str) -> dict[str, Any]:
        """A Sonic clip object, keys as in the observed poll payload. ``origin`` is the base of
        the file URLs: the request's host for a poll, the simulator's own for a webhook."""
        has_audio = state in ("streaming", "succeeded")
        # A streaming clip plays from a stream URL of its own (§2.3: "audio is already playable
        # but not final"); the final file has another URL, as upstream's CDN file does.
        audio = f"{origin}/files/{clip.clip_id}.wav"
        if state == "streaming":
            audio = f"{origin}/files/{STREAM_PREFIX}{clip.clip_id}.wav"
        return {
            "clip_id": clip.clip_id,
            "state": state,
            "title": clip.title,
            "tags": clip.tags,
            "lyrics": clip.lyrics,
            "image_url": f"{origin}/files/image_{clip.clip_id}.png" if has_audio else "",
            "audio_url": audio if has_audio else "",
            "video_url": None,
            "created_at": clip.created_at,
            "gpt_description_prompt": clip.gpt_description_prompt,
            # Observed upstream as a decimal string, and null until the clip is final.
            "duration": f"{self._clip_seconds(clip):.2f}" if state == "succeeded" else None,
            "negative_tags": clip.negative_tags,
            "style_weight": clip.style_weight,
            "weirdness_constraint": clip.weirdness_constraint,
            "mv": clip.mv,
        }

    def _api_error(self, problem: tuple[int, str]) -> web.Response:
        return self._error(*problem)

    def _screen(
        self, body: dict[str, Any], problem: tuple[int, str] | None
    ) -> tuple[str, web.Response | None]:
        """The front of every submit: the validation problem, if any, then moderation.

        Returns the text the magic words are read from, and the refusal to send, if any."""
        if problem is not None:
            return "", self._api_error(problem)
        text = text_of(body)
        refusal = moderation_refusal(text)
        return text, (self._api_error(refusal) if refusal is not None else None)

    # ------------------------------------------------------------------ shared by the handlers

    def _family_task(self, request: web.Request, family: str) -> SimTask | None:
        task = self.tasks.get(request.match_info["task_id"])
        if task is None or task.family != family:
            return None
        self.polls_by_task[task.task_id] = self.polls_by_task.get(task.task_id, 0) + 1
        return task

    def _not_found(self) -> web.Response:
        return self._error(self.config.not_found_status, MSG_TASK_NOT_FOUND)

    def _one_song(
        self,
        task: SimTask,
        *,
        title: str,
        tags: str,
        lyrics: str,
        mv: str,
        seconds: float,
        **extra: Any,
    ) -> SimClip:
        clip = self._make_clip(
            index=0,
            title=title,
            tags=tags,
            lyrics=lyrics,
            mv=mv,
            family=task.family,
            seconds=seconds,
            tone=self._tone_base(task),
            **extra,
        )
        return self._add_clip(task, clip)

    def _song_clip(
        self, body: dict[str, Any], index: int, tone: int, text: str, **extra: Any
    ) -> SimClip:
        """A song clip from generation fields; shared with ``/sonic/create``."""
        description = body.get("gpt_description_prompt") or (
            body.get("prompt") if body.get("auto_lyrics") else ""
        )
        title = body.get("title") or " ".join(str(description).split()[:4]).title() or "Sim Song"
        if body.get("make_instrumental"):
            lyrics = ""
        elif body.get("custom_mode") and not body.get("auto_lyrics") and body.get("prompt"):
            lyrics = body["prompt"]
        elif body.get("infill_lyrics"):
            lyrics = body["infill_lyrics"]
        else:
            lyrics = (
                f"[Verse]\nA simulated song about {description or 'nothing much'}\n\n[Chorus]\n"
            )
            lyrics += "La la la, the simulator sings"
        mv = str(body.get("mv") or "sonic-v4-5")
        return self._make_clip(
            index=index,
            title=str(title),
            tags=str(body.get("tags") or "pop, simulated"),
            lyrics=str(lyrics),
            mv="chirp-" + mv.removeprefix("sonic-"),
            tone=tone,
            gpt_description_prompt=body.get("gpt_description_prompt"),
            negative_tags=body.get("negative_tags"),
            style_weight=body.get("style_weight"),
            weirdness_constraint=body.get("weirdness_constraint"),
            magic=text,
            **extra,
        )

    def _accepted(self, task: SimTask) -> web.Response:
        payload: dict[str, Any] = {"message": "success", "task_id": task.task_id}
        if self.config.submit_includes_code:
            payload = {"code": 200, **payload}
        return web.json_response(payload)

    # ------------------------------------------------------------------ /sonic/task/{id}

    async def _handle_missing_task_id(self, request: web.Request) -> web.Response:
        return self._error(400, MSG_MISSING_TASK_ID)
