"""Owner alerts: once per kind per hour, never raising; the watches that raise them."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.musicapi.errors import AuthError, NotFoundError, RequestTimeoutError, ServerError
from bot.musicapi.models import Credits
from bot.observability import alerts
from bot.observability.alerts import AlertKind, OwnerAlerts
from bot.observability.discord_limits import DiscordRateLimits, rate_limit_scope
from bot.observability.incidents import unexpected_error
from bot.observability.upstream import UpstreamWatch, error_label
from tests.helpers import Clock


@pytest.fixture
def sent() -> list[str]:
    return []


@pytest.fixture
def clock() -> Clock:
    return Clock(1_000_000.0)


@pytest.fixture
async def owner(sent: list[str], clock: Clock):  # type: ignore[no-untyped-def]
    async def send(text: str) -> None:
        sent.append(text)

    installed = OwnerAlerts(send, clock=clock)
    alerts.install(installed)
    yield installed
    alerts.install(None)


async def test_one_alert_per_kind_per_hour_then_the_count_held_back(
    owner: OwnerAlerts, sent: list[str], clock: Clock
) -> None:
    assert owner.notify(AlertKind.CREDITS_LOW, "120 credits left")
    assert not owner.notify(AlertKind.CREDITS_LOW, "110 credits left")
    clock.now += 3599
    assert not owner.notify(AlertKind.CREDITS_LOW, "100 credits left")
    # Another kind is not held back by the first.
    assert owner.notify(AlertKind.UPSTREAM_DOWN, "down")
    clock.now += 1
    assert owner.notify(AlertKind.CREDITS_LOW, "90 credits left")
    await owner.drain()
    assert len(sent) == 3
    assert "120 credits left" in sent[0] and "running low" in sent[0]
    assert "90 credits left" in sent[2]
    assert "2 more of these in the last hour" in sent[2]


async def test_a_failing_send_is_logged_not_raised(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(text: str) -> None:
        raise RuntimeError("channel gone")

    owner = OwnerAlerts(broken, clock=clock)
    assert owner.notify(AlertKind.KEY_REFUSED, "401")
    await owner.drain()
    assert "could not send the owner alert key_refused" in caplog.text


async def test_long_alerts_fit_a_discord_message(owner: OwnerAlerts, sent: list[str]) -> None:
    owner.notify(AlertKind.UNEXPECTED_ERROR, "x" * 5000)
    await owner.drain()
    assert len(sent[0]) == 2000


def test_without_a_bot_an_alert_is_only_logged(caplog: pytest.LogCaptureFixture) -> None:
    alerts.install(None)
    assert not alerts.notify(AlertKind.ORPHANED_TASKS, "2 tasks")
    assert "orphaned_tasks" in caplog.text and "2 tasks" in caplog.text


async def test_unexpected_error_id_is_in_the_log_and_the_alert(
    owner: OwnerAlerts, sent: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    try:
        raise KeyError("boom")
    except KeyError as error:
        with caplog.at_level(logging.ERROR):
            incident = unexpected_error(error, where="/song create")
    await owner.drain()
    assert len(incident) == 8 and int(incident, 16) >= 0
    (record,) = [r for r in caplog.records if r.name == "bot.errors"]
    assert incident in record.getMessage() and record.exc_info is not None
    assert record.incident == incident  # type: ignore[attr-defined]  # set through `extra`
    assert incident in sent[0] and "/song create" in sent[0]


async def test_a_refused_key_alerts_once(owner: OwnerAlerts, sent: list[str], clock: Clock) -> None:
    watch = UpstreamWatch(credits_low=100, clock=clock)
    for _ in range(3):
        watch.observe("create", 401, AuthError("Invalid API key", status=401))
    await owner.drain()
    assert len(sent) == 1 and "MUSICAPI_KEY" in sent[0]
    assert watch.last_error is not None and watch.last_error.at == clock.now


async def test_upstream_down_alerts_after_five_minutes_without_an_answer(
    owner: OwnerAlerts, sent: list[str], clock: Clock
) -> None:
    watch = UpstreamWatch(credits_low=100, clock=clock)
    watch.observe("poll", None, RequestTimeoutError("no answer"))
    clock.now += 200
    watch.observe("poll", 502, ServerError("bad gateway", status=502))
    clock.now += 99
    watch.observe("poll", None, RequestTimeoutError("no answer"))
    await owner.drain()
    assert sent == []  # 299 s: not yet
    # An answer, even a refusal, ends the outage: the clock starts again.
    watch.observe("poll", 404, NotFoundError("unknown task", status=404))
    clock.now += 10
    watch.observe("poll", None, RequestTimeoutError("no answer"))
    clock.now += 299
    watch.observe("poll", None, RequestTimeoutError("no answer"))
    await owner.drain()
    assert sent == []
    clock.now += 1
    watch.observe("poll", None, RequestTimeoutError("no answer"))
    await owner.drain()
    assert len(sent) == 1 and "MusicAPI is unreachable" in sent[0] and "5 minutes" in sent[0]


async def test_low_credits_alert_below_the_threshold(
    owner: OwnerAlerts, sent: list[str], clock: Clock
) -> None:
    watch = UpstreamWatch(credits_low=100, clock=clock)
    watch.credits_seen(Credits(credits=80, extra_credits=20))  # 100: not below
    await owner.drain()
    assert sent == []
    watch.credits_seen(Credits(credits=60, extra_credits=39))
    await owner.drain()
    assert len(sent) == 1 and "99 credits left" in sent[0]


async def test_a_storm_of_discord_429s_alerts_once(
    owner: OwnerAlerts, sent: list[str], clock: Clock
) -> None:
    limits = DiscordRateLimits(storm_count=5, storm_window_s=60, clock=clock)
    for _ in range(4):
        limits.record("user")
        clock.now += 20  # spread out: never 5 within a minute
    await owner.drain()
    assert sent == []
    for _ in range(10):
        limits.record("shared")
        clock.now += 1
    await owner.drain()
    assert len(sent) == 1 and "429" in sent[0]


def test_rate_limit_scope_from_discord_headers() -> None:
    assert rate_limit_scope({"Via": "1.1 google", "X-RateLimit-Scope": "shared"}) == "shared"
    assert rate_limit_scope({"Via": "1.1 google"}) == "user"
    assert rate_limit_scope({}) == "cloudflare"


def test_error_labels_are_short_and_fixed() -> None:
    assert error_label(RequestTimeoutError("x")) == "request_timeout"
    assert error_label(AuthError("x")) == "auth"
    assert error_label(ServerError("x")) == "server"


async def test_notify_never_blocks_the_caller(owner: OwnerAlerts, sent: list[str]) -> None:
    started = asyncio.Event()
    release = asyncio.Event()

    async def slow(text: str) -> None:
        started.set()
        await release.wait()
        sent.append(text)

    alerts.install(OwnerAlerts(slow))
    assert alerts.notify(AlertKind.ORPHANED_TASKS, "3 tasks")  # returns before sending
    await started.wait()
    assert sent == []
    release.set()
    await alerts._current.drain()  # type: ignore[union-attr]  # installed just above
    assert len(sent) == 1


WEBHOOK_SECRET = "whsec-for-the-alert-tests-0123456789"


async def test_alerts_and_incidents_never_show_a_registered_secret(
    owner: OwnerAlerts, sent: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    from bot.observability.logs import TextFormatter
    from bot.redaction import add_secret

    add_secret(WEBHOOK_SECRET)
    assert alerts.notify(AlertKind.UPSTREAM_DOWN, f"MusicAPI said: bad secret {WEBHOOK_SECRET}")
    try:
        raise KeyError(WEBHOOK_SECRET)
    except KeyError as error:
        with caplog.at_level(logging.ERROR):
            unexpected_error(error, where=f"/song create {WEBHOOK_SECRET}")
    await owner.drain()
    assert len(sent) == 2 and all("[redacted]" in text for text in sent)
    assert not any(WEBHOOK_SECRET in text for text in sent)
    (record,) = [r for r in caplog.records if r.name == "bot.errors"]
    assert WEBHOOK_SECRET not in TextFormatter().format(record)
