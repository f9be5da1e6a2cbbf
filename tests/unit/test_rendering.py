"""What members see renders as meant: every builder of an embed or a message, fed member and
MusicAPI text full of markdown, shows the bot's own formatting, and the given text exactly as
typed, with no link, heading or mention of its own (`tests.markdown_view`)."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import discord
import pytest

from bot.delivery import embeds, tool_replies
from bot.delivery.media import AUDIO_KINDS
from bot.delivery.poster import DiscordPoster
from bot.delivery.safe_http import MediaFetcher, MediaPolicy
from bot.delivery.stems import StemsDelivery
from bot.delivery.timeline import TimedLine
from bot.interactions.buttons import clip_view
from bot.interactions.lyrics_form import summary_of
from bot.interactions.replies import fit
from bot.markdown import Markdown, code, escape, link, link_target, shorten
from bot.musicapi.results import BpmResult, MidiInstrument, MidiResult, VoxResult
from bot.observability.status import StatusFacts
from bot.observability.status import render as render_status
from bot.observability.upstream import UpstreamError
from bot.quota.admin import HistoryPage
from bot.states import JobState, RequestState
from bot.store import clips as clip_sql
from bot.store import jobs as job_sql
from bot.store.database import Database
from bot.store.jobs import Job, JobResult, MadePersona, NewJob
from bot.store.ledger import LedgerEntry
from bot.store.requests import SongRequest
from bot.validation import attachments, choices
from bot.validation import sonic as validation
from cogs.quota import history_embed
from cogs.request import request_embed, request_summary
from tests.helpers import refused, stored_clip
from tests.markdown_view import Given, check_message, problems, render, shows

T0 = 1_800_000_000.0
USER = 3
# Member text with every kind of markdown a member might type, or try.
TITLE = "*Road* _Trip_ ~~x~~ ||spoiler|| [x](https://evil.example/a) @everyone <@111>"
DESCRIPTION = "# Big heading\n- a list\n> a quote\n1. numbered `code` https://evil.example/b"
STYLE = "lo_fi_beats, 80s *synth*, back\\slash"
# MusicAPI text and addresses: a title, an error, and URLs that try to close their link early.
UPSTREAM_TITLE = "Night [drive](https://evil.example/) #1 **loud** @here"
UPSTREAM_ERROR = "Prompt rejected: [free credits](https://evil.example/) __now__ # sorry"
HOSTILE_URL = "https://cdn.example/a b.mp3?x=1)[pwn](https://evil.example/c"
GIVEN = Given(texts=[TITLE, UPSTREAM_TITLE, UPSTREAM_ERROR, STYLE, "lo_fi_beats"])
OWN_MENTIONS = [f"<@{USER}>", "<@5>"]  # the requester; the moderator


def ok(markdown: str, given: Given = GIVEN) -> None:
    found = problems(markdown, given, allowed_mentions=OWN_MENTIONS)
    assert not found, "\n".join(found)


def ok_embed(embed: discord.Embed, given: Given = GIVEN) -> dict[str, Any]:
    message = {"id": "embed", "embeds": [embed.to_dict()]}
    found = check_message(message, given, allowed_mentions=OWN_MENTIONS)
    assert not found, "\n".join(found)
    return message


def embed_text(embed: discord.Embed) -> str:
    """Everything the embed shows, rendered, one text after another."""
    data = embed.to_dict()
    parts = [data.get("title", ""), data.get("description", "")]
    for item in data.get("fields", []):
        parts += [item["name"], item["value"]]
    return "\n".join(render(part).text for part in parts if part)


# -- the renderer and the helpers themselves ------------------------------------------------


def test_the_renderer_sees_what_discord_shows() -> None:
    assert render("\\*\\*Road Trip\\*\\*").text == "**Road Trip**"
    assert render("**Road Trip**").bold == ["Road Trip"]
    assert render("see [a](https://x.example/) now").links == [("a", "https://x.example/")]
    assert render("[a](<https://x.example/>)").text == "a"
    assert render("# Title").line_formats == [("#", "# Title")]
    assert render("hi @everyone and <@1>").mentions == ["@everyone", "<@1>"]
    assert render("`*raw*`").text == "*raw*"


def test_the_rule_catches_the_old_defects() -> None:
    # The summary escaped whole: the bot's own bold shows as asterisks.
    assert problems(discord.utils.escape_markdown("**Road Trip**"), Given(texts=["Road Trip"]))
    # Member text escaped twice: its asterisk shows with a backslash.
    twice = discord.utils.escape_markdown(discord.utils.escape_markdown("*Road*"))
    assert problems(twice, Given(texts=["*Road*"]))
    # discord.py's escape leaves the second link working.
    assert problems(discord.utils.escape_markdown("[a](b) [x](https://evil.example/)"), GIVEN)
    # An upstream URL put into a link as it came injects a link of its own.
    assert problems(f"🔗 [Audio]({HOSTILE_URL})", GIVEN)


@pytest.mark.parametrize("text", [TITLE, DESCRIPTION, STYLE, UPSTREAM_TITLE, UPSTREAM_ERROR])
def test_escaped_text_shows_as_typed_and_does_nothing(text: str) -> None:
    escaped = escape(text)
    seen = render(escaped)
    assert seen.text == text
    assert not seen.links and not seen.mentions and not seen.line_formats and not seen.bold


def test_escaping_cuts_whole_escapes_and_says_so() -> None:
    cut = escape("*" * 50, 11)
    assert len(cut) <= 11 and cut.endswith("…") and render(cut).text == "*****…"
    assert escape(None) == "" and code("") == ""


def test_a_link_is_made_only_to_a_web_address_and_cannot_be_broken_out_of() -> None:
    made = link("[x](https://evil.example/) Audio", HOSTILE_URL)
    assert made is not None
    seen = render(made)
    assert len(seen.links) == 1
    label, target = seen.links[0]
    assert label == "[x](https://evil.example/) Audio"
    assert target.startswith("https://cdn.example/a%20b.mp3?x=1%29%5Bpwn%5D%28")
    for bad in ("javascript:alert(1)", "ftp://cdn.example/a", "//cdn.example/a", "", None):
        assert link("Audio", bad) is None and link_target(bad) is None


def test_shortened_markdown_keeps_its_formatting_whole() -> None:
    summary = Markdown(f"**{escape('Road Trip')}**\n" + escape("word " * 100))
    cut = shorten(summary, 60)
    assert len(cut) <= 60 and render(cut).bold == ["Road Trip"]
    one_line = shorten(Markdown("**" + escape("*" * 80) + "**"), 30)
    # Too long for any whole line: the bold goes, the text stays text (no stray `**`).
    seen = render(one_line)
    assert len(one_line) <= 30 and not seen.bold and seen.text == "*" * 14 + "…"


# -- job cards ------------------------------------------------------------------------------


def job(state: JobState, summary: str, **changes: Any) -> Job:
    fields: dict[str, Any] = {
        "guild_id": 1, "channel_id": 2, "user_id": USER, "operation": "create_music",
        "request": {}, "summary": summary, "cost": 20, "id": 7, "state": state, "task_id": "t",
        "application_id": None, "interaction_token": None, "token_expires_at": None,
        "card_message_id": None, "upload_limit": None, "failure": None, "created_at": T0,
        "submitted_at": T0, "finished_at": None, "next_run_at": None, "polls": 0, "errors": 0,
        "notified": False, "card_state": None, "charge_member": True, "family": "sonic",
        "result": None,
    }  # fmt: skip
    fields.update(changes)
    return Job(**fields)


def create_summary() -> Markdown:
    request = validation.build_create(
        description=DESCRIPTION.replace("\n", " "), style=STYLE, title=TITLE[:80],
        instrumental=False, model="sonic-v4-5", vocal=None, negative=None,
    )  # fmt: skip
    return summary_of(request)


def request_row(state: RequestState, reason: str | None = None) -> SongRequest:
    return SongRequest(
        id=4, guild_id=1, channel_id=2, user_id=USER, description=TITLE, style=STYLE,
        state=state, message_id=None, moderator_id=5, reason=reason, job_id=7,
        created_at=T0, decided_at=None,
    )  # fmt: skip


SUMMARIES: dict[str, Callable[[], Markdown]] = {
    "song": create_summary,
    "request": lambda: request_summary(request_row(RequestState.APPROVED)),
}
STATES = [
    ("submitting", {}), ("unconfirmed", {}), ("queued", {}), ("pending", {}), ("running", {}),
    ("streaming", {"stream_url": HOSTILE_URL}), ("succeeded", {}),
    ("failed", {"failure": UPSTREAM_ERROR}),
    ("failed", {"failure": "MusicAPI did not finish it within 10 minutes."}),
]  # fmt: skip


@pytest.mark.parametrize("summary", SUMMARIES)
@pytest.mark.parametrize(("state", "changes"), STATES)
def test_every_job_card_renders_its_own_bold_and_the_member_text_as_typed(
    summary: str, state: str, changes: dict[str, Any]
) -> None:
    made = job(JobState.QUEUED, SUMMARIES[summary](), **changes)
    card = embeds.job_card(made, state, clips_posted=2)
    message = ok_embed(card)
    description = message["embeds"][0]["description"]
    seen = render(description)
    if summary == "song":
        # The title is bold, and shows as typed (cut to fit, never re-escaped).
        assert seen.bold and seen.bold[0] == TITLE[:80].strip()
    else:
        assert "Request #4:" in seen.text and TITLE in seen.text
    assert "lo_fi_beats, 80s *synth*, back\\slash" in seen.text
    if state == "streaming":
        assert [label for label, _ in render(card.fields[-1].value or "").links] == [
            "Play the stream"
        ]
    if changes.get("failure") == UPSTREAM_ERROR:
        assert UPSTREAM_ERROR in embed_text(card)


def test_a_summary_written_before_the_fix_is_shown_not_re_escaped() -> None:
    # Old rows hold "**Title**" with the title escaped by discord.py: the bold renders.
    card = embeds.job_card(job(JobState.RUNNING, "**Road \\*Trip\\***\nModel: x"), "running")
    assert render(card.description or "").bold == ["Road *Trip*"]


# -- results ----------------------------------------------------------------------------------


def upstream_clip(**changes: Any) -> Any:
    fields = {
        "title": UPSTREAM_TITLE, "tags": STYLE, "lyrics": f"[Verse]\n{UPSTREAM_TITLE}\n# x",
        "model": "sonic_v5 *beta*", "user_id": USER, "audio_url": HOSTILE_URL,
    }  # fmt: skip
    fields.update(changes)
    return stored_clip(**fields)


def test_a_song_embed_shows_upstream_title_style_and_lyrics_as_sent() -> None:
    clip = upstream_clip()
    embed = embeds.clip_embed(clip, lyrics_inline=True, image_url=None)
    ok_embed(embed, Given(texts=[*GIVEN.texts, clip.lyrics, "sonic_v5 *beta*"]))
    shown = embed_text(embed)
    assert UPSTREAM_TITLE in shown and clip.lyrics in shown and "sonic_v5 *beta*" in shown


def test_a_failure_message_shows_upstream_words_once() -> None:
    text = embeds.failure_text(job(JobState.FAILED, "s", failure=UPSTREAM_ERROR))
    ok(text)
    assert shows(text, UPSTREAM_ERROR) and render(text).mentions == [f"<@{USER}>"]


def test_tool_results_render_as_meant() -> None:
    clip = upstream_clip()
    midi = MidiResult(HOSTILE_URL, (MidiInstrument("Piano *1*"), MidiInstrument("_Bass_")))
    text = tool_replies.midi_text(clip, midi)
    ok(text, Given(texts=[*GIVEN.texts, "Piano *1*", "_Bass_"]))
    assert render(text).bold == [UPSTREAM_TITLE]
    for made in (
        tool_replies.bpm_embed(clip, BpmResult(120, 128, 110)),
        tool_replies.vox_embed(
            clip, VoxResult("vox-1", status="**ok** [x](https://evil.example/)")
        ),
        tool_replies.tags_embed(STYLE, "dreamy, *lush*, [x](https://evil.example/)"),
        tool_replies.timeline_embed(clip, [TimedLine(1.0, "# la *la*"), TimedLine(2.0, "@here")]),
    ):
        ok_embed(made, Given(texts=[*GIVEN.texts, "**ok** [x](https://evil.example/)"]))
        assert UPSTREAM_TITLE in embed_text(made) or STYLE in embed_text(made)


@pytest.fixture
async def db(db_target: Path | str) -> AsyncIterator[Database]:
    database = await Database.open(db_target)
    yield database
    await database.close()


async def insert_job(db: Database, operation: str, request: dict[str, Any], summary: str) -> Job:
    order = NewJob(
        guild_id=1, channel_id=2, user_id=USER, operation=operation, request=request,
        summary=summary, cost=20,
    )  # fmt: skip
    async with db.transaction() as conn:
        job_id = await job_sql.insert(conn, order, T0)
        made = await job_sql.get(conn, job_id)
    assert made is not None
    return made


class Channel:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send(self, content: str, **options: Any) -> Any:
        embed = options.get("embed")
        self.sent.append(
            {"id": len(self.sent) + 1, "content": content,
             "embeds": [embed.to_dict()] if embed else []}
        )  # fmt: skip
        files = options.get("files") or []
        return SimpleNamespace(
            id=len(self.sent), content=content,
            attachments=[SimpleNamespace(filename=f.filename) for f in files],
        )  # fmt: skip


async def test_stems_links_and_titles_render_as_meant(db: Database) -> None:
    source = await insert_job(db, "create_music", {}, "s")
    async with db.transaction() as conn:
        await clip_sql.upsert(
            conn, upstream_clip(clip_id="5ca1ab1e-0000-4000-8000-000000000001", job_id=source.id)
        )
    stems_job = await insert_job(
        db, "stems_basic", {"clip_id": "5ca1ab1e-0000-4000-8000-000000000001"}, "s"
    )
    async with db.transaction() as conn:
        for n, name in enumerate(["Vocals [x](https://evil.example/)", "_Drums_"]):
            stem = upstream_clip(
                clip_id=f"5ca1ab1e-0000-4000-8000-00000000001{n}", job_id=stems_job.id, title=name
            )
            await clip_sql.upsert(conn, dataclasses.replace(stem, source="stem"))

    async def unreachable(url: str, max_bytes: int) -> bytes | None:
        return None

    channel = Channel()
    await StemsDelivery(db, unreachable, lambda: T0).deliver(channel, stems_job, 10_000)  # type: ignore[arg-type]
    assert len(channel.sent) == 1
    text = channel.sent[0]["content"]
    ok(text, Given(texts=[*GIVEN.texts, "Vocals [x](https://evil.example/)", "_Drums_"]))
    seen = render(text)
    assert seen.bold == [UPSTREAM_TITLE]
    assert [label for label, _ in seen.links] == ["Vocals [x](https://evil.example/)", "_Drums_"]
    assert all(target.startswith("https://cdn.example/") for _, target in seen.links)


class Client:
    def __init__(self, channel: Channel) -> None:
        self.channel = channel

    def get_partial_messageable(self, channel_id: int, **_: Any) -> Channel:
        return self.channel


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_posted_songs_and_files_link_upstream_addresses_safely(db: Database) -> None:
    # A loopback port nobody listens on: every fetch fails at once, and nothing leaves the
    # machine. The address still tries to close its link early.
    port = closed_port()
    url = f"http://127.0.0.1:{port}/a b.mp3?x=1)[pwn](https://evil.example/c"
    made = await insert_job(db, "create_music", {}, create_summary())
    async with db.transaction() as conn:
        clip = upstream_clip(
            clip_id="c1c1c1c1-0000-4000-8000-000000000001", job_id=made.id, image_url=None,
            audio_url=url,
        )  # fmt: skip
        await clip_sql.upsert(conn, clip)
    persona = await insert_job(db, "create_voice", {}, escape("Voice from *me*"))
    async with db.transaction() as conn:
        result = JobResult(files=(url,), persona=MadePersona("p-1", "**Diva** @here"))
        await job_sql.set_result(conn, persona.id, result)
        persona = await job_sql.get(conn, persona.id)  # type: ignore[assignment]
    channel = Channel()
    http = MediaFetcher(MediaPolicy.for_musicapi(f"http://127.0.0.1:{port}"))
    views_for: list[tuple[str, str, str]] = []

    def views(clip_id: str, operation: str, family: str) -> discord.ui.View:
        views_for.append((clip_id, operation, family))
        return clip_view(clip_id, operation, family)

    try:
        poster = DiscordPoster(
            Client(channel), db, http, clip_views=views, clock=lambda: T0, fetch_budget_s=0.2,  # type: ignore[arg-type]
        )  # fmt: skip
        await poster.job_succeeded(made)
        await poster.job_succeeded(persona)
    finally:
        await http.close()
    given = Given(texts=[*GIVEN.texts, clip.lyrics, "sonic_v5 *beta*", "**Diva** @here"])
    assert len(channel.sent) == 2
    # The song's buttons come from the factory the poster was handed (the persona has none).
    assert views_for == [(clip.clip_id, made.operation, made.family)]
    for message in channel.sent:
        found = check_message(message, given, allowed_mentions=OWN_MENTIONS)
        assert not found, "\n".join(found)
        links = render(message["content"]).links
        assert len(links) == 1 and links[0][1].startswith(url.split(" ")[0] + "%20b.mp3?x=1%29")
    assert "**Diva** @here" in render(channel.sent[1]["content"]).text


# -- lists, cards and refusals ---------------------------------------------------------------


@pytest.mark.parametrize("state", list(RequestState))
def test_request_cards_show_the_request_as_typed(state: RequestState) -> None:
    card = request_embed(request_row(state, reason=UPSTREAM_ERROR), votes=2)
    ok_embed(card)
    assert TITLE in embed_text(card)


def test_quota_history_shows_release_reasons_as_written() -> None:
    entries = [
        LedgerEntry(1, 1, USER, 7, "release", 20, "create_music", None, UPSTREAM_ERROR, T0, T0, 1),
        LedgerEntry(2, 1, USER, 7, "commit", 20, "stems_basic", None, None, T0, T0, 1),
        LedgerEntry(3, 1, None, None, "setting", 0, None, 5, "budget 100 per day", T0, T0, 1),
    ]
    member = SimpleNamespace(display_name="**Bob** _the_ #1")
    embed = history_embed(HistoryPage(entries, 1, 1, 3), member)
    ok_embed(embed, Given(texts=[*GIVEN.texts, "**Bob** _the_ #1"]))
    assert UPSTREAM_ERROR in embed_text(embed) and "**Bob** _the_ #1" in embed_text(embed)


def test_the_owner_status_shows_musicapi_errors_as_written() -> None:
    facts = StatusFacts(
        version="1.0", mode="live", uptime_s=90, gateway_latency_s=0.05, shards="all 1",
        servers=2, database="sqlite", jobs_by_state={"queued": 1}, webhooks="off",
        balance="10 monthly + 0 extra", orphans=0,
        last_upstream_error=UpstreamError(f"ModerationError: {UPSTREAM_ERROR}", T0),
        features="riffusion off",
    )  # fmt: skip
    text = render_status(facts)
    ok(text)
    assert render(text).bold == ["musicbot 1.0"] and shows(text, UPSTREAM_ERROR)


def test_refusals_quote_what_was_typed_literally() -> None:
    for error in (
        refused(choices.model, TITLE, ("sonic-v4-5",), "sonic-v4-5"),
        refused(attachments.check_lyrics_file, f"{TITLE}.pdf", None, 10),
    ):
        text = str(error)
        ok(text)
        seen = render(text)
        assert TITLE[:20] in seen.text and not seen.mentions


def test_a_reply_cut_to_discords_limit_shows_no_half_escape() -> None:
    text = fit(f"<@{USER}> " + escape("*" * 3000))
    assert len(text) <= 2000 and text.endswith("…")
    ok(text, Given(texts=["*" * 1000]))


async def test_a_tool_file_too_large_to_attach_is_linked_safely() -> None:
    sent: list[str] = []

    async def send(content: str, **_: Any) -> None:
        sent.append(content)

    # No room to attach anything, and a loopback port nobody listens on: a link it is.
    interaction = SimpleNamespace(filesize_limit=1, followup=SimpleNamespace(send=send))
    clip = upstream_clip()
    port = closed_port()
    url = f"http://127.0.0.1:{port}/a b.wav?x=1)[pwn](https://evil.example/c"
    http = MediaFetcher(MediaPolicy.for_musicapi(f"http://127.0.0.1:{port}"))
    try:
        await tool_replies.send_file_or_link(
            interaction,  # type: ignore[arg-type]
            http, text=f"WAV of {tool_replies.song_name(clip)}", url=url, name="x",
            kinds=AUDIO_KINDS, label="WAV",
        )  # fmt: skip
    finally:
        await http.close()
    assert len(sent) == 1
    ok(sent[0])
    assert [label for label, _ in render(sent[0]).links] == ["WAV"]
    assert shows(sent[0], UPSTREAM_TITLE)
