"""/healthz during start-up: the step, the login attempt and the wait before the next one."""

from __future__ import annotations

from bot.observability.starting import StartingHealth


async def test_reasons_follow_the_steps_and_count_down_to_the_next_login() -> None:
    now = [100.0]
    starting = StartingHealth(clock=lambda: now[0])
    starting.enter("opening the database")
    report = await starting.report()
    assert not report.healthy and report.reasons == ["starting: opening the database"]
    starting.enter("checking the MusicAPI key")
    assert starting.reasons() == ["starting: checking the MusicAPI key"]
    starting.login_attempt(1)
    assert starting.reasons() == ["starting: logging in to Discord (attempt 1)"]
    starting.login_failed(3, "ClientConnectorError: refused", 20.0)
    assert starting.reasons() == [
        "starting: logging in to Discord (attempt 3, next in 20 s)",
        "last error: ClientConnectorError: refused",
    ]
    now[0] += 12.4
    assert starting.reasons()[0] == "starting: logging in to Discord (attempt 3, next in 8 s)"
    now[0] += 60.0  # late: never a negative wait
    assert starting.reasons()[0] == "starting: logging in to Discord (attempt 3, next in 0 s)"
    starting.login_attempt(4)  # the error stays until an attempt succeeds or a step begins
    assert starting.reasons() == [
        "starting: logging in to Discord (attempt 4)",
        "last error: ClientConnectorError: refused",
    ]
