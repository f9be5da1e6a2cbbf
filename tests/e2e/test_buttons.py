"""The buttons under every song run the same path as the slash commands, even after a restart."""

from __future__ import annotations

from typing import Any

from tests.audio_files import wav
from tests.e2e.conftest import CHANNEL, GUILD, MEMBER, MakeWorld, World, answer_of
from tests.helpers import ephemeral_text

OTHER_GUILD, OTHER_CHANNEL = 900000000000000301, 900000000000000302
WAV = wav(12.0)  # a real WAV: a voice file must parse as the audio it claims to be


def labels(message: dict[str, Any]) -> dict[str, str]:
    return {
        c["label"]: c["custom_id"]
        for row in message.get("components") or []
        for c in row.get("components", [])
    }


async def press(world: World, message: dict[str, Any], label: str, **where: int) -> Any:
    return await world.discord.click_button(
        guild_id=where.get("guild", GUILD), channel_id=where.get("channel", CHANNEL),
        user_id=MEMBER, message_id=message["id"], custom_id=labels(message)[label],
    )  # fmt: skip


async def test_every_song_has_its_next_steps_and_they_work_after_a_restart(
    make_world: MakeWorld,
) -> None:
    async with make_world(DEFAULT_GUILD_BUDGET="1000") as world:
        await world.song(description="buttons please")
        song = (await world.clip_messages(2))[0]
        assert set(labels(song)) == {
            "Extend", "Cover", "Remaster", "Stems", "WAV", "MIDI", "Timeline", "BPM", "Again",
            "Delete",
        }  # fmt: skip  # "Full song" only on parts made by extend

        await world.restart()
        bpm = await press(world, song, "BPM")
        assert (await bpm.wait_response())["type"] == 5
        answer = await bpm.wait_original()
        assert answer["embeds"][0]["title"].startswith("Tempo of")
        assert answer["embeds"][0]["fields"][0]["value"].endswith(" BPM")
        assert ("commit", 1) in await world.ledger_kinds()
        assert [p for _, p, _ in world.sim.requests if p.endswith("/sonic/bpm")]

        extend = await press(world, song, "Extend")
        form = (await answer_of(extend))["data"]
        fields = [
            c["custom_id"]
            for row in form["components"]
            for c in row.get("components", []) or [row.get("component", {})]
            if c.get("type") == 4
        ]
        await world.discord.submit_modal(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, custom_id=form["custom_id"],
            values={fields[0]: "1.5", fields[1]: ""},
        )  # fmt: skip
        parts = (await world.clip_messages(4))[2:]
        assert world.creates()[-1]["task_type"] == "extend_music"
        assert world.creates()[-1]["continue_at"] == 1.5
        assert "Full song" in labels(parts[0])  # derived results carry the buttons again


async def test_a_bad_form_value_and_another_servers_press_are_refused(
    make_world: MakeWorld,
) -> None:
    async with make_world() as world:
        await world.song(description="guarded")
        song = (await world.clip_messages(2))[0]
        extend = await press(world, song, "Extend")
        form = (await answer_of(extend))["data"]
        field = next(
            c["custom_id"]
            for row in form["components"]
            for c in row.get("components", []) or [row.get("component", {})]
            if c.get("type") == 4
        )
        submitted = await world.discord.submit_modal(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, custom_id=form["custom_id"],
            values={field: "soon"},
        )  # fmt: skip
        assert "`at`" in ephemeral_text(await answer_of(submitted))

        world.discord.add_guild(OTHER_GUILD, channels=[OTHER_CHANNEL])
        elsewhere = await press(world, song, "WAV", guild=OTHER_GUILD, channel=OTHER_CHANNEL)
        assert "another server" in ephemeral_text(await answer_of(elsewhere))
        assert len(world.creates()) == 1
        assert await world.ledger_kinds() == [("reserve", 20), ("commit", 20)]


async def test_a_voice_persona_is_announced(make_world: MakeWorld) -> None:
    async with make_world() as world:
        voice = await world.discord.invoke_slash(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, command="persona",
            subcommand="voice", options={},
            attachments={"file": ("me.wav", WAV, "audio/wav")},
        )  # fmt: skip
        await voice.wait_response()
        notice = await world.discord.wait_for(
            lambda m: "Persona" in (m.get("content") or "") and "saved" in m["content"], timeout=15
        )
        assert f"<@{MEMBER}>" in notice["content"] and "/song persona" in notice["content"]


async def test_producer_songs_get_producer_buttons(make_world: MakeWorld) -> None:
    from tests.e2e.test_producer import producer_song

    async with make_world(DEFAULT_GUILD_BUDGET="1000") as world:
        await producer_song(world, sound="warm lofi beat")
        song = (await world.clip_messages(1))[0]
        assert set(labels(song)) == {"Cover", "MP3", "WAV", "Again", "Delete"}
        wav = await press(world, song, "WAV")
        assert (await wav.wait_response())["type"] == 5
        delivered = await world.discord.wait_for(
            lambda m: (
                any(a["filename"].endswith(".wav") for a in m.get("attachments") or [])
                and "your request" in (m.get("content") or "")
            ),
            timeout=15,
        )
        assert f"<@{MEMBER}>" in delivered["content"]
        bodies = [b for _, p, b in world.sim.requests if p == "/api/v1/producer/download"]
        assert bodies and bodies[0]["format"] == "wav"
        assert not [p for _, p, _ in world.sim.requests if p.startswith("/api/v1/sonic/wav")]
