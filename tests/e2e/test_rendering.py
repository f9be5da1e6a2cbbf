"""What members see renders as meant, through real commands: member text full of markdown goes
into every kind of command, and every message, embed and earlier state of a message the bot
posted or edited is read as a member sees it (`tests.markdown_view`)."""

from __future__ import annotations

from typing import Any

from bot.simulator import SimulatorConfig
from tests.audio_files import mp3
from tests.e2e.conftest import (
    CHANNEL,
    GUILD,
    MEMBER,
    MODERATOR,
    OTHER_MEMBER,
    MakeWorld,
    World,
    answer_of,
)
from tests.markdown_view import Given, check_message, render

TITLE = "*Road* _Trip_ [x](https://evil.example/) @everyone"
DESCRIPTION = "# stars *above* [x](https://evil.example/) <@111> @here"
STYLE = "lo_fi, *dreamy* ~~synth~~"
# Discord keeps only letters, digits, `-`, `_` and `.` of a file name: underscores it is.
UPLOAD = "__my__demo_"
PERSONA = "**Diva** [x](https://evil.example/)"
GIVEN = Given(texts=[TITLE, DESCRIPTION, STYLE, UPLOAD, PERSONA, "lo_fi"])
OWN_MENTIONS = [f"<@{MEMBER}>", f"<@{MODERATOR}>", f"<@{OTHER_MEMBER}>", f"<#{CHANNEL}>"]
# A link the bot makes to its own files may carry the simulator's address; a member's never.
POISONED_URL = "https://cdn.example/a b.mp3?x=1)[pwn](https://evil.example/c"


def everything_shown(world: World) -> list[dict[str, Any]]:
    """Every message the bot posted or edited (all their states), and every immediate answer."""
    shown = list(world.discord.messages.values())
    for interaction in world.discord.interactions.values():
        response = interaction.response or {}
        if response.get("type") in (4, 7) and response.get("data"):
            shown.append({"id": f"response {interaction.id}", **response["data"]})
    return shown


async def settled(world: World, *interactions: Any) -> None:
    for interaction in interactions:
        await answer_of(interaction)


async def finished(world: World, *interactions: Any) -> None:
    """Wait until each job's card says it is done or failed (its results are posted by then)."""
    for interaction in interactions:
        card = await interaction.wait_original()

        def done(message: dict[str, Any], card_id: int = card["id"]) -> bool:
            return message["id"] == card_id and message["embeds"][0]["title"][:1] in "✅❌"

        await world.discord.wait_for(done, timeout=30)


async def clip_of(world: World, title: str) -> str:
    async with world.bot.db.read() as conn:
        rows = await conn.execute_fetchall(
            "SELECT clip_id FROM clips WHERE title = ? ORDER BY created_at", (title,)
        )
    assert rows, f"no clip titled {title!r}"
    return str(rows[0][0])


async def test_every_reply_shows_member_text_as_typed_and_the_bots_own_formatting(
    make_world: MakeWorld,
) -> None:
    config = SimulatorConfig(generation_time=1.0)
    async with make_world(
        sim_config=config, OWNER_IDS=str(MODERATOR), DEFAULT_GUILD_BUDGET="100000"
    ) as world:
        song = await world.song(description=DESCRIPTION, style=STYLE, title=TITLE)
        await song.wait_response()
        # While it is being made: the queue and the member's credits.
        queue = await world.slash("queue")
        queued = await answer_of(queue)
        await settled(world, await world.slash("credits"))
        await finished(world, song)
        song_clip = await clip_of(world, TITLE)

        upload = await world.slash(
            "song", "upload", files={"file": (f"{UPLOAD}.mp3", mp3(2.4), "audio/mpeg")},
            action="extend", style=STYLE,
        )  # fmt: skip
        await finished(world, upload)

        for tool in ("bpm", "midi", "wav", "timeline", "vox"):
            await settled(world, await world.slash("tools", tool, clip=song_clip))
        await settled(world, await world.slash("tools", "tags", style=STYLE))
        first = next(m for m in world.discord.messages.values() if "(1/2)" in m["content"])
        again_id = next(
            c["custom_id"]
            for row in first["components"]
            for c in row["components"]
            if c.get("label") == "Again"
        )
        again = await world.discord.click_button(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, message_id=first["id"],
            custom_id=again_id,
        )  # fmt: skip
        stems = await world.slash("tools", "stems", clip=song_clip)
        extend = await world.slash("song", "extend", clip=song_clip, at=1.0, style=STYLE)

        nuro = await world.slash("nuro", "instrumental", description=DESCRIPTION, duration=10)
        producer = await world.slash("producer", "create", title=TITLE, sound=STYLE, length=30)
        await finished(world, again, stems, extend, nuro, producer)
        again_card = again.original
        assert again_card is not None
        assert render(again_card["embeds"][0]["description"]).bold == [TITLE]

        # A job MusicAPI fails.
        world.sim.config.failure_rate = 1.0
        await finished(world, await world.song(description=DESCRIPTION, title=TITLE))
        assert any("could not be made" in m["content"] for m in world.discord.messages.values())
        world.sim.config.failure_rate = 0.0

        persona = await world.slash("persona", "create", clip=song_clip, name=PERSONA)
        await persona.wait_response()
        await persona.wait_original()
        await settled(world, await world.slash("persona", "list"))
        await settled(world, await world.slash("lyrics", "write", description=TITLE))
        refused = await world.slash("song", "create", description=DESCRIPTION, model=TITLE)
        await settled(world, refused)

        await settled(world, await world.slash("quota", "approval", user=MODERATOR, state="on"))
        request = await world.slash("request", "song", description=DESCRIPTION, style=STYLE)
        await request.wait_response()
        await world.discord.wait_for(lambda m: bool(m["embeds"]) and "request #" in str(m))

        async with world.bot.db.transaction() as conn:
            await conn.execute(
                "UPDATE clips SET audio_url = ? WHERE clip_id = ?", (POISONED_URL, song_clip)
            )
        info = await world.slash("song", "info", clip=song_clip)
        for command in ("show", "history", "costs", "usage"):
            await settled(world, await world.slash("quota", command, user=MODERATOR))
        await settled(world, info, await world.slash("musicbot", "status", user=MODERATOR))

        shown = everything_shown(world)
        found = [
            problem
            for message in shown
            for problem in check_message(message, GIVEN, allowed_mentions=OWN_MENTIONS)
        ]
        assert not found, "\n".join(found)

        # And what should render does: the title in bold on the card, as typed, in every state.
        card = song.original
        assert card is not None
        states = [*card["history"], card]
        titles = [render(s["embeds"][0]["description"]).bold for s in states if s["embeds"]]
        assert titles and all(bold[:1] == [TITLE] for bold in titles)
        assert TITLE in render(queued["data"]["embeds"][0]["description"]).text
        upload_card = upload.original
        assert upload_card is not None
        assert render(upload_card["embeds"][0]["description"]).bold == [UPLOAD]
        info_answer = await answer_of(info)
        audio = next(f for f in info_answer["data"]["embeds"][0]["fields"] if f["name"] == "Audio")
        assert [label for label, _ in render(audio["value"]).links] == ["link"]
        texts = " ".join(str(message.get("content")) for message in shown)
        assert "Persona **" in texts  # the persona's name is the bot's bold, escaped inside
        assert render(persona.original["content"]).bold == [PERSONA]  # type: ignore[index]
        # What was checked covers each kind of reply (not an empty pass).
        everything = str(shown)
        for expected in (
            "your stems of", "Nuro instrumental", "Producer song", "Tempo of", "MIDI of",
            "Lyrics timeline of", "Vocal segment of", "Richer style tags", "could not be made",
            "Song request #", "Quota history", "Costs (credits)", "musicbot", "In progress (",
            "Draft 1", "is not offered", "Personas", "By member",
        ):  # fmt: skip
            assert expected in everything, expected
