"""The gate's pieces on their own: replies that fit, error texts, acknowledgement kinds, and
interactions too old to answer."""

from __future__ import annotations

import ast
import inspect
import logging
import re
import textwrap
from datetime import timedelta
from typing import Any

import discord
import pytest
from discord import app_commands

from bot.delivery.interrupted import name_of
from bot.errors import InputError
from bot.interactions import gate
from bot.interactions.errors import GENERIC_FAILURE, member_text
from bot.interactions.gate import ACK_PRIVATE, Ack, MusicTree, ack_of
from bot.interactions.replies import MESSAGE_LIMIT, fit


class Response:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def is_done(self) -> bool:
        return bool(self.calls)

    async def defer(self, **options: Any) -> None:
        self.calls.append(("defer", options))

    async def send_message(self, content: str, **options: Any) -> None:
        self.calls.append(("send", {"content": content, **options}))


class Interaction:
    """What the gate reads of an interaction."""

    def __init__(self, age_s: float) -> None:
        self.created_at = discord.utils.utcnow() - timedelta(seconds=age_s)
        self.response = Response()
        self.command = None
        self.data: dict[str, Any] = {}
        self.type = discord.InteractionType.component


class Client:
    def __init__(self) -> None:
        self.jobs = object()  # set up: the bot's resources are open

    def is_closed(self) -> bool:
        return False


def tree() -> MusicTree:
    made = MusicTree.__new__(MusicTree)  # the gate needs no registered commands
    made.client = Client()  # type: ignore[assignment]
    made.in_flight = 0
    return made


def test_any_reply_text_is_cut_to_what_discord_accepts() -> None:
    assert len(fit("y" * 5000)) == MESSAGE_LIMIT and fit("y" * 5000).endswith("…")
    assert fit("short") == "short"


def test_refusals_fit_and_bugs_get_the_generic_apology() -> None:
    huge = InputError("model", "z" * 5000)
    assert len(member_text(Interaction(0), huge)) <= MESSAGE_LIMIT  # type: ignore[arg-type]
    bug = app_commands.CommandInvokeError.__new__(app_commands.CommandInvokeError)
    bug.original = RuntimeError("boom")
    apology = member_text(Interaction(0), bug)  # type: ignore[arg-type]
    # The apology, and the short reference the log line and the owner's alert also carry.
    assert re.fullmatch(re.escape(GENERIC_FAILURE) + r" \(Reference: `[0-9a-f]{8}`\.\)", apology)


def test_a_commands_acknowledgement_comes_from_it_or_its_group() -> None:
    group = app_commands.Group(name="quota", description="d", extras=ACK_PRIVATE)

    async def body(interaction: discord.Interaction) -> None: ...

    inside = app_commands.Command(name="show", description="d", callback=body, parent=group)
    alone = app_commands.Command(name="create", description="d", callback=body)
    assert ack_of(inside) is Ack.PRIVATE
    assert ack_of(alone) is Ack.PUBLIC


async def test_the_gate_defers_a_fresh_interaction_and_drops_a_stale_one() -> None:
    fresh, stale = Interaction(0), Interaction(gate.STALE_AFTER_S + 1)
    assert await tree().admit(fresh, Ack.PRIVATE)  # type: ignore[arg-type]
    assert fresh.response.calls == [("defer", {"thinking": True, "ephemeral": True})]
    assert not await tree().admit(stale, Ack.PUBLIC)  # type: ignore[arg-type]
    assert stale.response.calls == []  # too late to answer: not even tried


async def test_the_gate_sheds_beyond_its_limit_and_says_so() -> None:
    busy = tree()
    busy.max_in_flight = 2
    busy.in_flight = 2
    pressed = Interaction(0)
    assert not await busy.admit(pressed, Ack.PUBLIC)  # type: ignore[arg-type]
    assert pressed.response.calls == [
        ("send", {"content": gate.BUSY, "ephemeral": True, "allowed_mentions": gate.NO_MENTIONS})
    ]
    # A command is counted before it reaches the gate: the same limit lets it through.
    assert await busy.admit(Interaction(0), Ack.PUBLIC, counted=True)  # type: ignore[arg-type]


async def test_gate_refusals_are_summarised_not_logged_one_by_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    gate.refusals.flush()  # what earlier tests refused is not this test's
    caplog.clear()
    busy = tree()
    busy.max_in_flight = 1
    busy.in_flight = 1
    with caplog.at_level(logging.WARNING, "bot.interactions.gate"):
        for _ in range(30):
            assert not await busy.admit(Interaction(0), Ack.PUBLIC)  # type: ignore[arg-type]
            assert not await busy.admit(Interaction(gate.STALE_AFTER_S + 1), Ack.PUBLIC)  # type: ignore[arg-type]
        assert [r for r in caplog.records if r.name == "bot.interactions.gate"] == []
        gate.refusals.flush()
    (line,) = [r.getMessage() for r in caplog.records if r.name == "bot.interactions.gate"]
    assert "60 in the last" in line and "30 × shed (1 in flight)" in line
    assert "30 × stale (over 3 s old)" in line


class Replies:
    """The open-replies table as the gate sees it: what was written down, under which name."""

    def __init__(self) -> None:
        self.names: list[str | None] = []

    async def opened(self, interaction: Any, name: str | None = None) -> None:
        self.names.append(name)


async def test_only_a_thinking_reply_of_its_own_is_written_down_for_the_crash_sweep() -> None:
    # An UPDATE press's deferred reply is the song message itself: the sweep must never
    # overwrite it. SELF answers with a form, which is written down when submitted.
    replies = Replies()
    client = Client()
    client.open_replies = replies  # type: ignore[attr-defined]
    interaction = Interaction(0)
    interaction.client = client  # type: ignore[attr-defined]
    for ack in Ack:
        await gate.track_opened(interaction, ack, f"{ack} button")  # type: ignore[arg-type]
    assert replies.names == ["public button", "private button"]


def test_a_button_is_named_by_its_action_and_a_form_as_a_form() -> None:
    press = Interaction(0)
    press.data = {"custom_id": "clip:timeline:0123abcd"}
    assert name_of(press) == "timeline button"  # type: ignore[arg-type]
    form = Interaction(0)
    form.type = discord.InteractionType.modal_submit
    assert name_of(form) == "form"  # type: ignore[arg-type]


def _source(function: Any) -> ast.FunctionDef | ast.AsyncFunctionDef:
    (made,) = ast.parse(textwrap.dedent(inspect.getsource(function))).body
    assert isinstance(made, ast.FunctionDef | ast.AsyncFunctionDef)
    return made


def test_the_private_dispatch_the_tree_wraps_is_still_what_it_relies_on() -> None:
    # MusicTree overrides discord.py's private CommandTree._call (its comment says why): this
    # fails when an upgrade renames it, changes its signature, stops running every command
    # through it, or stops calling the public interaction_check (the gate) first inside it.
    private = app_commands.CommandTree._call
    assert inspect.iscoroutinefunction(private)
    assert [(p.name, p.kind) for p in inspect.signature(private).parameters.values()] == [
        (p.name, p.kind) for p in inspect.signature(MusicTree._call).parameters.values()
    ] == [
        ("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        ("interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD),
    ]
    dispatch = _source(app_commands.CommandTree._from_interaction)
    calls = [ast.unparse(node) for node in ast.walk(dispatch) if isinstance(node, ast.Call)]
    assert "self._call(interaction)" in calls
    first = _source(private).body[0]
    assert isinstance(first, ast.If)
    assert ast.unparse(first.test) == "not await self.interaction_check(interaction)"
