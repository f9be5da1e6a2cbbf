"""Webhooks from the simulator (docs/musicapi/protocol.md §5, docs/musicapi/open-questions.md F).

A task-creating request that carries ``webhook_url`` (and optionally ``webhook_secret``) gets a
POST on each transition of its task: ``song.streaming`` (Sonic songs, once audio is playable),
then ``song.completed`` or ``song.failed``. The body is what a poll would show, wrapped as
``{code, data, message, task_id, platform, event}``; ``data`` is the poll's ``data`` (Sonic and
Producer) or the whole flat poll body (Nuro). ``code`` is 200 throughout and a failure's reason
is in ``message``: the docs show only a completed payload, so this is our reading.

Signing, per ``webhook_scheme``:

- ``timestamped`` (the newest guide): ``X-Webhook-Id`` and ``Idempotency-Key`` (the same value),
  ``X-Webhook-Event``, ``X-Webhook-Timestamp`` (unix seconds) and ``X-Webhook-Signature:
  sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>``;
- ``body_only`` (the older sister-site guide): only ``X-Signature: <hex HMAC-SHA256(secret, raw
  body)>``, with no timestamp and no id;
- ``both``: every header of both.

Without ``webhook_secret`` the platform signs with a default secret the customer cannot see
(§5), here ``SimulatorConfig.webhook_default_secret``.

Faults for tests: ``webhook_drop`` (events never sent) and ``webhook_drop_rate`` (seeded),
``webhook_duplicates`` (each delivery sent again with the same id and bytes), ``webhook_delay``,
``webhook_retries`` (a failed POST is retried with the same id, freshly timestamped) and
``webhook_early`` (the task finishes at once and its final webhook is delivered before the create
response is sent). Deliveries go to loopback hosts only; any other host is recorded in
``refused`` and never contacted.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import heapq
import hmac
import ipaddress
import json
import logging
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

import aiohttp

from .protocol import STREAMING_FROM, SimTask

if TYPE_CHECKING:
    from .core import SimulatorConfig

__all__ = [
    "EVENT_COMPLETED",
    "EVENT_FAILED",
    "EVENT_STREAMING",
    "WEBHOOK_PATHS",
    "WebhookDelivery",
    "WebhookSender",
    "check_webhook_fields",
    "sign_body_only",
    "sign_timestamped",
]

log = logging.getLogger("bot.simulator")

EVENT_STREAMING = "song.streaming"
EVENT_COMPLETED = "song.completed"
EVENT_FAILED = "song.failed"
WebhookScheme = Literal["timestamped", "body_only", "both"]

# §5: the requests that may carry webhook fields. Stems and the sync utilities may not.
WEBHOOK_PATHS = frozenset(
    f"/api/v1/{path}"
    for path in (
        "sonic/create",
        "suno/create",
        "sonic/upload-extend",
        "sonic/upload-cover",
        "sonic/sample",
        "sonic/mashup",
        "sonic/replace-section",
        "sonic/create-voice",
        "producer/create",
        "producer/upload",
        "producer/download",
        "nuro/create",
    )
)
# §5 "Platforms: suno (= sonic), nuro, producer".
PLATFORMS = {"sonic": "suno", "producer": "producer", "nuro": "nuro"}
_NO_WEBHOOK_KINDS = frozenset({"stems_basic", "stems_full"})
MAX_URL_LENGTH = 1024
# Longest the sender naps while tasks are pending, so a test clock that jumps is noticed soon.
_MAX_NAP_S = 0.2
# Evaluate a transition a hair after its instant, so float rounding cannot read the state just
# before it.
_EPSILON_S = 1e-6


def sign_timestamped(secret: str, timestamp: str, raw: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + raw, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def sign_body_only(secret: str, raw: bytes) -> str:
    return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: never resolved, so never contacted


def check_webhook_fields(body: Any) -> str | None:
    """The message of the 400 for malformed webhook fields, or ``None``.

    §5 wants a public https URL of at most 1024 characters; plain http is accepted for loopback
    hosts only, which is where the simulator can deliver."""
    if not isinstance(body, dict):
        return None
    url = body.get("webhook_url")
    if url is not None:
        if not isinstance(url, str) or not url.strip():
            return "The 'webhook_url' field should be a non-empty string."
        if len(url) > MAX_URL_LENGTH:
            return "The webhook_url character length should be less than or equal to 1024."
        parts = urlsplit(url)
        secure = parts.scheme == "https" or (
            parts.scheme == "http" and is_loopback_host(parts.hostname)
        )
        if not secure or not parts.hostname:
            return "The 'webhook_url' field should be an https URL."
    secret = body.get("webhook_secret")
    if secret is not None and not isinstance(secret, str):
        return "The 'webhook_secret' field should be a string."
    return None


@dataclass
class WebhookDelivery:
    """One POST (or one deliberately skipped event), for tests to inspect."""

    task_id: str
    event: str
    url: str
    webhook_id: str
    headers: dict[str, str]
    body: bytes
    attempt: int = 1  # retries of the same copy count up
    copy: int = 0  # 0 = the delivery, 1.. = the duplicates webhook_duplicates adds
    status: int | None = None
    error: str | None = None
    dropped: bool = False

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class _Subscription:
    task: SimTask
    url: str
    secret: str
    platform: str
    sent: set[str] = field(default_factory=set)


class WebhookSender:
    """Watches subscribed tasks on the simulator's clock and POSTs their transitions."""

    def __init__(
        self,
        config: SimulatorConfig,
        data_for: Callable[[SimTask], Any],
    ) -> None:
        self.config = config
        self._data_for = data_for
        self.deliveries: list[WebhookDelivery] = []
        self.refused: list[tuple[str, str]] = []  # (task_id, url) never contacted
        self._warned_hosts: set[str | None] = set()
        seed = config.seed
        # Own streams: webhooks never shift the ids or faults of the API itself.
        self._rng = random.Random(None if seed is None else f"webhooks-{seed}")
        self._id_rng = random.Random(None if seed is None else f"webhook-ids-{seed}")
        self._heap: list[tuple[float, int, str, _Subscription]] = []
        self._seq = 0
        self._early: list[_Subscription] = []
        self._inflight: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._pump: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self._wake = asyncio.Event()
        self._session = aiohttp.ClientSession()
        self._pump = asyncio.create_task(self._run(), name="sim-webhooks")

    async def stop(self) -> None:
        tasks = [t for t in (self._pump, *self._inflight) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._pump = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ------------------------------------------------------------------ subscribing

    def subscribe(self, task: SimTask) -> None:
        """Called when a task is opened: remember it if its body asks for webhooks."""
        url = task.body.get("webhook_url")
        platform = PLATFORMS.get(task.family)
        if not isinstance(url, str) or platform is None or task.task_type in _NO_WEBHOOK_KINDS:
            return
        host = urlsplit(url).hostname
        if not is_loopback_host(host):
            if host not in self._warned_hosts:  # once per host: per-job URLs would flood the log
                self._warned_hosts.add(host)
                log.warning("simulator: not sending webhooks to %s (loopback hosts only)", host)
            self.refused.append((task.task_id, url))
            return
        secret = task.body.get("webhook_secret")
        sub = _Subscription(
            task=task,
            url=url,
            secret=secret if isinstance(secret, str) and secret else self._default_secret(),
            platform=platform,
        )
        if self.config.webhook_early:
            # Finishes now; its final webhook goes out before the create response (see flush).
            task.generation_time = 0.0
            self._early.append(sub)
            return
        if task.family == "sonic" and task.task_type != "create_voice":
            self._push(task.created_at + STREAMING_FROM * task.generation_time, "stream", sub)
        self._push(task.completed_at, "final", sub)
        self._wake.set()

    def _new_id(self) -> str:
        return str(uuid.UUID(int=self._id_rng.getrandbits(128), version=4))

    def _default_secret(self) -> str:
        return self.config.webhook_default_secret

    def _push(self, due: float, check: str, sub: _Subscription) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (due + _EPSILON_S, self._seq, check, sub))

    # ------------------------------------------------------------------ timing

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            self._process_due()
            timeout: float | None = None
            if self._heap:
                timeout = min(max(0.0, self._heap[0][0] - self.config.clock()), _MAX_NAP_S)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    def _process_due(self) -> None:
        now = self.config.clock()
        while self._heap and self._heap[0][0] <= now:
            _, _, check, sub = heapq.heappop(self._heap)
            event = self._event_now(sub, check)
            if event is not None:
                self._spawn(sub, event)

    def _event_now(self, sub: _Subscription, check: str) -> str | None:
        state = sub.task.state
        if check == "stream":
            event = EVENT_STREAMING if state == "streaming" else None
        else:
            event = {"succeeded": EVENT_COMPLETED, "failed": EVENT_FAILED}.get(state)
        if event is None or event in sub.sent:
            return None
        sub.sent.add(event)
        return event

    async def deliver_due(self) -> None:
        """Send what is due on the simulator's clock now, and wait for every send in flight.

        For tests on a fake clock: move the clock, then call this."""
        self._process_due()
        while self._inflight:
            await asyncio.gather(*list(self._inflight), return_exceptions=True)

    async def flush_early(self) -> None:
        """``webhook_early``: the final webhooks of the tasks just opened, before the reply."""
        subs, self._early = self._early, []
        for sub in subs:
            event = self._event_now(sub, "final")
            if event is not None:
                await self._deliver(sub, event, self._envelope(sub, event))

    # ------------------------------------------------------------------ sending

    def _spawn(self, sub: _Subscription, event: str) -> None:
        # The body is what a poll shows at the transition, even if the send is delayed.
        envelope = self._envelope(sub, event)
        task = asyncio.create_task(self._deliver(sub, event, envelope))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    def _envelope(self, sub: _Subscription, event: str) -> dict[str, Any]:
        task = sub.task
        return {
            "code": 200,
            "data": self._data_for(task),
            "message": task.fail_message if event == EVENT_FAILED else "success",
            "task_id": task.task_id,
            "platform": sub.platform,
            "event": event,
        }

    async def _deliver(self, sub: _Subscription, event: str, envelope: dict[str, Any]) -> None:
        cfg = self.config
        raw = json.dumps(envelope, separators=(",", ":")).encode()
        webhook_id = self._new_id()
        if event in cfg.webhook_drop or (
            cfg.webhook_drop_rate > 0 and self._rng.random() < cfg.webhook_drop_rate
        ):
            self._record(sub, event, webhook_id, {}, raw, dropped=True)
            return
        if cfg.webhook_delay > 0:
            await asyncio.sleep(cfg.webhook_delay)
        headers = self._headers(sub, event, webhook_id, raw)
        for copy in range(1 + cfg.webhook_duplicates):
            for attempt in range(1, 2 + cfg.webhook_retries):
                if attempt > 1:
                    await asyncio.sleep(cfg.webhook_retry_delay)
                    headers = self._headers(sub, event, webhook_id, raw)  # freshly timestamped
                delivery = self._record(sub, event, webhook_id, headers, raw, attempt, copy)
                await self._post(sub.url, headers, raw, delivery)
                if delivery.status is not None and 200 <= delivery.status < 300:
                    break

    def _headers(
        self, sub: _Subscription, event: str, webhook_id: str, raw: bytes
    ) -> dict[str, str]:
        scheme = self.config.webhook_scheme
        headers = {"Content-Type": "application/json"}
        if scheme in ("timestamped", "both"):
            timestamp = str(int(self.config.webhook_clock()))
            headers.update(
                {
                    "X-Webhook-Id": webhook_id,
                    "Idempotency-Key": webhook_id,
                    "X-Webhook-Event": event,
                    "X-Webhook-Timestamp": timestamp,
                    "X-Webhook-Signature": sign_timestamped(sub.secret, timestamp, raw),
                }
            )
        if scheme in ("body_only", "both"):
            headers["X-Signature"] = sign_body_only(sub.secret, raw)
        return headers

    def _record(
        self,
        sub: _Subscription,
        event: str,
        webhook_id: str,
        headers: dict[str, str],
        raw: bytes,
        attempt: int = 1,
        copy: int = 0,
        *,
        dropped: bool = False,
    ) -> WebhookDelivery:
        delivery = WebhookDelivery(
            task_id=sub.task.task_id,
            event=event,
            url=sub.url,
            webhook_id=webhook_id,
            headers=dict(headers),
            body=raw,
            attempt=attempt,
            copy=copy,
            dropped=dropped,
        )
        self.deliveries.append(delivery)
        excess = len(self.deliveries) - self.config.max_recorded_requests
        if excess > 0:
            del self.deliveries[:excess]
        return delivery

    async def _post(
        self, url: str, headers: dict[str, str], raw: bytes, delivery: WebhookDelivery
    ) -> None:
        assert self._session is not None, "the simulator is not running"
        # The receiver's time only: a delivery queued behind others for a pooled connection is
        # late, not lost (a burst of completions must not drop webhooks by itself).
        limit = self.config.webhook_timeout
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=limit, sock_read=limit)
        try:
            async with self._session.post(
                url, data=raw, headers=headers, timeout=timeout, allow_redirects=False
            ) as resp:
                await resp.read()
                delivery.status = resp.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            delivery.error = f"{type(exc).__name__}: {exc}"
