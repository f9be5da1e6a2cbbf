"""Every slash command of the bot, fuzzed with hostile options (Hypothesis), against the fake
Discord and the MusicAPI simulator over loopback.

Each example is one invocation by a member: a command drawn from the bot's own command tree,
and for each option a value drawn for its type: hostile text (invisible characters only, markdown,
mentions, up to Discord's 6,000 characters), numbers at the edges of the 0.01 s rounding and of
Discord's ±2^53 range, files that lie about their type. When the answer is a form, it is sent
back filled in the same way. Properties, per invocation and over the whole run:

- every invocation is acknowledged and answered (never left on "thinking…");
- no reply says "Something went wrong" (no unhandled error, no builder ValueError);
- a refusal of an option (`field`: …) made no spending call upstream and opened no job;
- MusicAPI never answers 400 to anything the bot sent (nothing invalid is forwarded);
- Discord never refuses a message the bot sent (replies fit Discord's limits);
- nothing pings anyone but the member who asked.

Deterministic: `derandomize=True` and no example database, so every run draws the same cases;
the number of examples bounds the time (about a minute on two cores). The figures of a run are
printed at the end (`-s` shows them).
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import discord
from discord import app_commands
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

from bot.simulator import SimulatorConfig
from tests.audio_files import flac, m4a, mp3, ogg_vorbis
from tests.e2e.conftest import CHANNEL, GUILD, MEMBER, MODERATOR, World, open_world
from tests.e2e.conftest import answer_of as settled_answer
from tests.fakediscord import DEFAULT_OWNER_ID
from tests.fakediscord.records import FakeChannel, FakeInteraction, FakeRole, FakeUser

T = TypeVar("T")
PER_COMMAND = 8  # examples per command; the bot has about 60 commands
PER_TIMED_COMMAND = 60  # more for commands with numbers or files, where rounding and sniffing bite
ANSWER_WITHIN = 20.0
INPUT_REFUSAL = re.compile(r"^`[a-z_]+`: ")
GENERIC_FAILURE = "Something went wrong"
EPHEMERAL = 1 << 6

# -- values a member can type -----------------------------------------------------------------

INVISIBLE = (
    "\u200b\u200c\u200d\u2060\ufeff\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    "\u200e\u200f\u061c\u3164\u115f\u00a0\u3000\u2800\u034f\U000e0020\U000e0041 \t\n"
)
FRIENDLY = [
    "lofi", "a song about rain", "[Verse]\nla la la\n[Chorus]\noh", "Pop", "happy, calm",
    "piano, drums", "sonic-v5", "sonic-v4", "mp3", "wav", "FUZZ-1.1", "Romantic", "Female",
    "dance/edm", "upbeat, epic, dark, pop, kids, jazz", "Night Singer",
]  # fmt: skip
HOSTILE = [
    "@everyone", "@here hello", "<@900000000000000004> <@&900000000000000009>", "**b** __u__ `c`",
    "||spoiler|| ~~s~~ > quote", "\u202eevil.mp3", "👩\u200d🎤🎸", "\u200b", "a\u0300\u0301",
    "```\ncode\n```", "[link](https://example.com)", "' OR 1=1 --", "\x00\x07", "%s %d {0}",
]  # fmt: skip


def repeated(piece: str, count: int) -> str:
    return (piece * count)[:6000]  # Discord's longest string option value


TEXT = st.one_of(
    st.sampled_from(FRIENDLY),
    st.sampled_from(HOSTILE),
    st.text(st.sampled_from(INVISIBLE), min_size=1, max_size=30),
    st.text(max_size=40),
    st.builds(
        repeated,
        st.sampled_from(["x", "é", "\u200b", "@everyone ", "a\u200d", "la "]),
        st.sampled_from(
            [
                79,
                80,
                81,
                119,
                120,
                199,
                200,
                201,
                400,
                401,
                1000,
                1001,
                2000,
                2001,
                3000,
                4000,
                5000,
                5001,
                6000,
            ]
        ),
    ),
)
EDGE_SECONDS = [
    0.0, 0.001, 0.002, 0.004, 0.0049, 0.005, 0.0051, 0.006, 0.01, 0.1, 0.49, 0.495, 0.5,
    0.504, 0.505, 1.0, 1.004, 1.5, 2.0, 2.004, 2.49, 2.495, 2.4951, 2.499, 2.5, 2.5049, 2.505,
    2.51, 2.9951, 2.999, 3.0, 3.0049, 3.004, 10.0, 10.004, 29.999, 30.0, 30.004, 30.005, 480.0,
    480.004, -0.0, -0.001, -0.005, -1.0, 0.3333333, 2.0**53, -(2.0**53), 1e-9,
]  # fmt: skip
NUMBER = st.one_of(
    st.sampled_from(EDGE_SECONDS),
    st.floats(-5, 40, allow_nan=False, allow_infinity=False),
    st.floats(-(2.0**53), 2.0**53, allow_nan=False, allow_infinity=False),
)
EDGE_INTEGERS = [0, 1, -1, 2, 5, 9, 10, 29, 30, 31, 59, 60, 61, 240, 241, 1000, 2**31, 2**53]
INTEGER = st.one_of(st.sampled_from(EDGE_INTEGERS), st.integers(-(2**53), 2**53))


def wav(seconds: float, rate: int = 8000) -> bytes:
    """A real 8-bit mono WAV: its header says how long it is."""
    frames = int(seconds * rate)
    header = (
        b"RIFF" + (36 + frames).to_bytes(4, "little") + b"WAVEfmt "
        + (16).to_bytes(4, "little") + (1).to_bytes(2, "little") + (1).to_bytes(2, "little")
        + rate.to_bytes(4, "little") + rate.to_bytes(4, "little") + (1).to_bytes(2, "little")
        + (8).to_bytes(2, "little") + b"data" + frames.to_bytes(4, "little")
    )  # fmt: skip
    return header + b"\x80" * frames


SIM_AUDIO_S = 2.5  # the simulator's length for an uploaded clip, whatever the file holds
# Audio files whose length the bot reads (a WAV's header, mutagen for the rest) are no longer
# than the simulator's upload, so a follow-up time that fits the file also fits the clip.
# Files that only look like audio are refused before anything is uploaded.
TIMED_FILES = [
    ("take.wav", wav(SIM_AUDIO_S), "audio/wav"),
    ("\u200b.wav", wav(SIM_AUDIO_S), ""),
    ("demo.mp3", mp3(2.4), "audio/mpeg"),
    ("@everyone.mp3", mp3(1.0), "audio/mpeg"),
    ("x" * 300 + ".mp3", mp3(0.5), "audio/mpeg"),
    ("song.ogg", ogg_vorbis(2.0), "audio/ogg"),
    ("take.flac", flac(SIM_AUDIO_S), "audio/flac"),
    ("take.m4a", m4a(SIM_AUDIO_S), "audio/mp4"),
]
FILES = [("take.wav", wav(SIM_AUDIO_S), "audio/wav"), ("\u200b.wav", wav(SIM_AUDIO_S), "")]
FILES = [
    *TIMED_FILES,
    ("id3-only.mp3", b"ID3\x03" + b"\x00" * 6 + b"\xff\xfb\x90\xc0" + b"\x00" * 1024, "audio/mpeg"),
    ("magic-only.ogg", b"OggS\x00\x02" + b"\x00" * 512, "audio/ogg"),
    ("photo.mp3", b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\x00" * 512, "audio/mpeg"),
    ("random.wav", b"\xff\xff\xff\xff" * 64, "audio/wav"),
    ("notes.pdf", b"%PDF-1.4\n" + b"\x00" * 64, "application/pdf"),
    ("empty.mp3", b"", "audio/mpeg"),
    ("lyrics.txt", b"[Verse]\nla la\n[Chorus]\noh", "text/plain"),
    ("latin1.txt", "café".encode("latin-1"), "text/plain"),
    ("invisible.txt", ("\u200b" * 20).encode(), "text/plain"),
    ("binary.txt", b"abc\x00def", "text/plain"),
    ("huge.txt", b"la " * 30_000, "text/plain"),
]  # fmt: skip


# -- the bot in a loop of its own, shared by every example -------------------------------------


class LoopThread:
    """An event loop in a thread: the world lives across examples, Hypothesis stays sync."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 120) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@dataclass
class Figures:
    invocations: int = 0
    forms_sent: int = 0
    input_refusals: int = 0  # "`option`: ..." refusals
    private_answers: int = 0  # other private answers: permissions, quota, lists, settings
    public_answers: int = 0  # jobs started, files and analyses posted
    by_command: Counter[str] = field(default_factory=Counter)


@dataclass
class Fuzz:
    world: World
    commands: list[app_commands.Command[Any, ..., Any]]
    clips: list[str]
    personas: list[str]
    models: list[str]
    upstream: list[tuple[str, str, int, str]]  # every MusicAPI answer: method, path, status, body
    figures: Figures = field(default_factory=Figures)


STAFF_GROUPS = ("quota", "musicbot")  # moderator and owner commands


def staff_only(command: app_commands.Command[Any, ..., Any]) -> bool:
    return command.qualified_name.split()[0] in STAFF_GROUPS


def leaf_commands(tree: app_commands.CommandTree) -> list[app_commands.Command[Any, ..., Any]]:
    """Every command; the moderators' and owner's last, so that what they change (budgets,
    block lists, channels) cannot hide the members' commands from the fuzz."""
    found = [c for c in tree.walk_commands() if isinstance(c, app_commands.Command)]
    return sorted(found, key=lambda c: (staff_only(c), c.qualified_name))


def record_upstream(world: World, answers: list[tuple[str, str, int, str]]) -> None:
    """Every answer of the simulator, with its status (its own log keeps requests only)."""
    sim: Any = world.sim
    dispatch = sim._dispatch

    async def recording(request: Any, handler: Any, path: str, is_api: bool) -> Any:
        response = await dispatch(request, handler, path, is_api)
        if is_api:
            body = getattr(response, "text", None) or ""
            answers.append((request.method, path, response.status, body[:300]))
        return response

    sim._dispatch = recording


async def seed_world(world: World) -> tuple[list[str], list[str]]:
    """Songs (Sonic, Producer, an upload) and a persona for the clip and persona options."""
    await world.song(description="a song to fuzz")
    songs = await world.clip_messages(2)
    clips = [str(m["embeds"][0]["footer"]["text"]).removeprefix("Clip ") for m in songs]
    upload = await world.slash("song", "upload", files={"file": TIMED_FILES[0]})
    clips.append((await upload.wait_original(timeout=20))["content"].split("clip `")[1][:36])
    producer = await world.slash("producer", "create", sound="lofi")
    await producer.wait_response()
    messages = await world.clip_messages(4, within=30)
    clips += [
        str(m["embeds"][0]["footer"]["text"]).removeprefix("Clip ")
        for m in messages
        if str(m["embeds"][0]["footer"]["text"]).removeprefix("Clip ") not in clips
    ]
    persona = await world.slash("persona", "create", clip=clips[0], name="Fuzz Singer")
    saved = await persona.wait_original(timeout=20)
    for family in ("riffusion", "studio"):  # the owner turns them on, so they are fuzzed too
        switch = await world.slash(
            "musicbot", "feature", user=DEFAULT_OWNER_ID, name=family, state="on"
        )
        await switch.wait_response()
    return clips, [saved["content"].split("id `")[1].split("`")[0]]


# -- one invocation and its properties --------------------------------------------------------


@dataclass
class Invocation:
    command: app_commands.Command[Any, ..., Any]
    options: dict[str, Any]
    files: dict[str, tuple[str, bytes, str]]
    form_text: str | None  # what to type in a form, if one opens (None: leave it)
    user: int = MEMBER

    def describe(self) -> str:
        shown = {k: (v if not isinstance(v, str) else v[:60]) for k, v in self.options.items()}
        files = {k: v[0][:40] for k, v in self.files.items()}
        return f"/{self.command.qualified_name} {shown} files={files}"


def option_value(
    draw: st.DrawFn, parameter: app_commands.Parameter, state: Fuzz, plausible: bool
) -> tuple[str, Any]:
    """('option' | 'file', value) for one parameter, by its Discord type. A plausible
    invocation types what a member might (known songs, everyday words, numbers at the edges),
    so that one odd value meets otherwise valid options; a hostile one types anything."""
    kind = parameter.type
    text = st.sampled_from(FRIENDLY) if plausible else TEXT
    if parameter.choices:
        return "option", draw(st.sampled_from([c.value for c in parameter.choices]))
    if kind is discord.AppCommandOptionType.attachment:
        return "file", draw(st.sampled_from(FILES))
    if kind is discord.AppCommandOptionType.number:
        return "option", float(draw(st.sampled_from(EDGE_SECONDS) if plausible else NUMBER))
    if kind is discord.AppCommandOptionType.integer:
        return "option", draw(st.sampled_from(EDGE_INTEGERS) if plausible else INTEGER)
    if kind is discord.AppCommandOptionType.boolean:
        return "option", draw(st.booleans())
    if kind is discord.AppCommandOptionType.user:
        return "option", FakeUser(draw(st.sampled_from([MEMBER, MODERATOR])))
    if kind is discord.AppCommandOptionType.role:
        return "option", FakeRole(GUILD)  # @everyone's role id is the guild id
    if kind is discord.AppCommandOptionType.channel:
        return "option", FakeChannel(CHANNEL)
    if parameter.name.startswith("clip"):
        known = st.sampled_from(state.clips)
        junk = st.sampled_from(["not-a-clip", "ffffffff-ffff-ffff-ffff-ffffffffffff", "0" * 64])
        return "option", draw(known if plausible else st.one_of(known, junk, TEXT))
    if parameter.name == "model" and plausible:
        return "option", draw(st.sampled_from(state.models))
    if parameter.name == "persona":
        known = st.sampled_from(state.personas)
        return "option", draw(known if plausible else st.one_of(known, TEXT))
    return "option", draw(text)


@st.composite
def invocations(
    draw: st.DrawFn, state: Fuzz, command: app_commands.Command[Any, ..., Any]
) -> Invocation:
    options: dict[str, Any] = {}
    files: dict[str, tuple[str, bytes, str]] = {}
    plausible = draw(st.booleans())
    for parameter in command.parameters:
        if not parameter.required and draw(st.booleans()):
            continue  # an optional option left out
        where, value = option_value(draw, parameter, state, plausible)
        (files if where == "file" else options)[parameter.name] = value
    form_text = draw(st.one_of(st.none(), TEXT))
    staff = [MEMBER, MODERATOR, DEFAULT_OWNER_ID]
    user = draw(st.sampled_from(staff)) if staff_only(command) else MEMBER
    return Invocation(command, options, files, form_text, user)


def route(command: app_commands.Command[Any, ..., Any]) -> dict[str, str | None]:
    names = command.qualified_name.split()
    if len(names) == 1:
        return {"command": names[0], "subcommand": None, "group": None}
    if len(names) == 2:
        return {"command": names[0], "subcommand": names[1], "group": None}
    return {"command": names[0], "group": names[1], "subcommand": names[2]}


def text_of(message: dict[str, Any]) -> str:
    embeds = message.get("embeds") or []
    return str(message.get("content") or "") + " ".join(
        f"{e.get('title') or ''} {e.get('description') or ''}" for e in embeds
    )


async def answer_of(interaction: FakeInteraction) -> tuple[str | None, bool]:
    """What the member finally reads, and whether only they see it; None for a form.
    Fails when the interaction is acknowledged but never answered."""
    response = await interaction.wait_response(timeout=ANSWER_WITHIN)
    if response["type"] == 9:
        return None, False
    settled = await settled_answer(interaction, wait_s=ANSWER_WITHIN)
    if settled["type"] == 4:
        data = settled["data"]
        return text_of(data), bool(data.get("flags", 0) & EPHEMERAL)
    message = interaction.original or {}
    return text_of(message), False


async def fill_form(world: World, interaction: FakeInteraction, text: str) -> FakeInteraction:
    modal = interaction.modal or (interaction.response or {}).get("data") or {}
    values = {
        component["custom_id"]: text[:4000]
        for row in modal.get("components", [])
        for component in row.get("components", []) or [row.get("component") or {}]
        if component.get("type") == 4
    }
    return await world.discord.submit_modal(
        guild_id=GUILD, channel_id=CHANNEL, user_id=interaction.user_id,
        custom_id=modal["custom_id"],
        values=values,
    )  # fmt: skip


async def job_count(world: World) -> int:
    async with world.bot.db.read() as conn:
        rows = await conn.execute_fetchall("SELECT COUNT(*) FROM jobs")
    return int(next(iter(rows))[0])


def spending_posts(state: Fuzz) -> int:
    return sum(1 for method, _, _, _ in state.upstream if method == "POST")


async def check_one(state: Fuzz, case: Invocation) -> None:
    world, figures = state.world, state.figures
    jobs, posts = await job_count(world), spending_posts(state)
    interaction = await world.discord.invoke_slash(
        guild_id=GUILD, channel_id=CHANNEL, user_id=case.user, options=case.options,
        attachments=case.files, **route(case.command),
    )  # fmt: skip
    figures.invocations += 1
    figures.by_command[case.command.qualified_name] += 1
    text, private = await answer_of(interaction)
    if text is None and case.form_text is not None:
        figures.forms_sent += 1
        text, private = await answer_of(await fill_form(world, interaction, case.form_text))
    text = text or ""
    assert GENERIC_FAILURE not in text, text
    if private and INPUT_REFUSAL.match(text):
        figures.input_refusals += 1
        assert len(text) <= 2000
        assert spending_posts(state) == posts, f"refused ({text}) yet sent upstream"
        assert await job_count(world) == jobs, f"refused ({text}) yet a job was opened"
    elif private:
        figures.private_answers += 1
    else:
        figures.public_answers += 1
    invalid = [a for a in state.upstream if a[0] == "POST" and a[2] in (400, 422)]
    assert not invalid, f"MusicAPI refused what the bot sent: {invalid[-1]}"


def check_discord(world: World) -> None:
    """Over the whole run: Discord refused nothing, and nothing pinged anyone else."""
    refused = [(r.method, r.path, r.status) for r in world.discord.request_log if r.status == 400]
    assert not refused, refused
    assert world.discord.errors == []
    for message in world.discord.messages.values():
        if message["author_id"] != world.discord.bot_user_id:
            continue
        assert not message["mention_everyone"], message["content"]
        assert not message.get("mention_roles"), message["content"]
        assert set(message["mentions"]) <= {MEMBER}, message["content"]


async def check_discord_in_loop(world: World) -> None:
    """check_discord on the world's own loop: the bot keeps posting while a check reads."""
    check_discord(world)


def print_figures(state: Fuzz) -> None:
    figures = state.figures
    print(
        f"\nfuzz: {figures.invocations} invocations of {len(figures.by_command)} of "
        f"{len(state.commands)} commands; {figures.forms_sent} forms sent; "
        f"{figures.input_refusals} option refusals, {figures.private_answers} other private "
        f"answers, {figures.public_answers} public answers; {len(state.upstream)} MusicAPI calls"
    )


def examples_for(command: app_commands.Command[Any, ..., Any]) -> int:
    timed = (discord.AppCommandOptionType.number, discord.AppCommandOptionType.attachment)
    if any(p.type in timed for p in command.parameters):
        return PER_TIMED_COMMAND
    return PER_COMMAND


FUZZ_SETTINGS = settings(
    max_examples=PER_COMMAND,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # examples share one world: no replays to shrink
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def test_every_command_answers_hostile_options_without_spending(tmp_path: Path) -> None:
    runner = LoopThread()
    sim = SimulatorConfig(generation_time=0.05, credits=10**9, seed=7)
    context = open_world(tmp_path, sim_config=sim, DEFAULT_GUILD_BUDGET="1000000000")
    world = runner.run(context.__aenter__())
    try:
        answers: list[tuple[str, str, int, str]] = []
        record_upstream(world, answers)
        clips, personas = runner.run(seed_world(world))
        models = list(world.bot.settings.models)
        state = Fuzz(world, leaf_commands(world.bot.tree), clips, personas, models, answers)
        # One Hypothesis run per command, so every command gets its share of examples.
        for command in state.commands:

            @settings(FUZZ_SETTINGS, max_examples=examples_for(command))
            @given(case=invocations(state, command))
            def one_invocation(case: Invocation) -> None:
                note(case.describe())
                runner.run(check_one(state, case), timeout=4 * ANSWER_WITHIN)
                runner.run(check_discord_in_loop(world))

            one_invocation()
        print_figures(state)
        assert state.figures.invocations == sum(examples_for(c) for c in state.commands)
        assert set(state.figures.by_command) == {c.qualified_name for c in state.commands}
    finally:
        runner.run(context.__aexit__(None, None, None))
        runner.stop()
