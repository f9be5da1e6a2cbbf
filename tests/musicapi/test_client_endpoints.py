"""Every endpoint method beyond create/poll, against the simulator over loopback: the right
path, the right body, a typed result, and the polling contract of ``poll(family, task_id)``."""

from __future__ import annotations

import io
import itertools
import time
import wave
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from bot.musicapi import families
from bot.musicapi.client import MusicAPIClient
from bot.musicapi.errors import (
    AuthError,
    GoneError,
    InsufficientCreditsError,
    MusicAPIError,
    NotFoundError,
    NotReadyError,
    RateLimitedError,
    RequestTimeoutError,
    StepFailedError,
    UpstreamValidationError,
)
from bot.musicapi.families.nuro import NuroBgm, NuroSegment, NuroVocal
from bot.musicapi.families.producer import ProducerCreate
from bot.musicapi.families.riffusion import RiffusionCreate
from bot.musicapi.families.sonic import (
    Mashup,
    PersonaCreate,
    ReplaceSection,
    Sample,
    SonicCreate,
    UploadCover,
    UploadExtend,
)
from bot.musicapi.families.studio import StudioCreate
from bot.musicapi.models import TaskStatus
from bot.musicapi.results import AlignedWord, BpmResult, MidiResult, StepsResult, VoxResult
from bot.simulator import (
    MSG_CATALOG_MATCH,
    MSG_PERSONA_UNKNOWN,
    MusicAPISimulator,
)
from tests.helpers import Clock

from .simhelpers import LYRICS

SimFactory = Callable[..., Any]
ClientFactory = Callable[..., MusicAPIClient]
SONG = SonicCreate(custom_mode=True, mv="sonic-v5", prompt=LYRICS, tags="pop")
UPLOAD_URL = "https://example.com/my-own-song.mp3"
GEN: dict[str, Any] = {"custom_mode": False, "mv": "sonic-v5", "gpt_description_prompt": "jazz"}
VOCAL = NuroVocal(
    lyrics="[verse]\nla la",
    gender="Female",
    genre="Pop",
    mood="Romantic",
    timbre="Warm",
    duration=30,
)


def last_request(sim: MusicAPISimulator) -> tuple[str, str, Any]:
    return sim.requests[-1]


async def done(client: MusicAPIClient, clock: Clock, family: str, task_id: str) -> TaskStatus:
    clock.now += 1000
    status = await client.poll(family, task_id)
    assert status.done, status
    return status


async def song(client: MusicAPIClient, clock: Clock, req: SonicCreate = SONG) -> str:
    status = await done(client, clock, "sonic", await client.create_music(req))
    return status.clips[0].clip_id


@pytest.fixture
async def env(
    make_sim: SimFactory, make_client: ClientFactory
) -> tuple[MusicAPISimulator, MusicAPIClient, Clock]:
    clock = Clock()
    sim = await make_sim(clock=clock, generation_time=10.0)
    return sim, make_client(sim.base_url), clock


Env = tuple[MusicAPISimulator, MusicAPIClient, Clock]


# --------------------------------------------------------------------------- uploads and rules


async def test_upload_and_the_uploaded_clip_rules(env: Env) -> None:
    sim, client, clock = env
    clip_id = await client.upload(UPLOAD_URL)
    assert last_request(sim) == ("POST", "/api/v1/sonic/upload", {"url": UPLOAD_URL})
    assert sim.clip(clip_id).uploaded and sim.balance == 10000 - 2
    generated = await song(client, clock)

    def create(task_type: str, clip: str, **extra: Any) -> SonicCreate:
        return SonicCreate(
            task_type=task_type, continue_clip_id=clip, custom_mode=True, mv="sonic-v5", **extra
        )

    with pytest.raises(UpstreamValidationError, match="cannot be used with music you uploaded"):
        await client.create_music(create("extend_music", clip_id, continue_at=1))
    with pytest.raises(UpstreamValidationError, match="cannot be used with music you uploaded"):
        await client.create_music(create("cover_music", clip_id))
    window = {"prompt": "la", "overpainting_start_s": 0, "overpainting_end_s": 2}
    for task_type, extra in (
        ("extend_upload_music", {"continue_at": 0.1}),
        ("cover_upload_music", {}),
        ("add_vocals", window),
        ("add_instrumental", window),
    ):
        with pytest.raises(UpstreamValidationError) as info:
            await client.create_music(create(task_type, generated, **extra))
        assert str(info.value) == (
            f"'{task_type}' can only be used with music you uploaded yourself."
        )
        task_id = await client.create_music(create(task_type, clip_id, **extra))
        assert (await done(client, clock, "sonic", task_id)).state == "succeeded"
    await client.create_music(create("extend_music", generated, continue_at=1))
    await client.create_music(create("cover_music", generated))


async def test_continue_at_must_lie_inside_the_source(env: Env) -> None:
    _, client, clock = env
    clip_id = await song(client, clock)  # 2.5 s of audio
    for continue_at in (2.5, 9):
        req = SonicCreate(
            task_type="extend_music",
            continue_clip_id=clip_id,
            continue_at=continue_at,
            custom_mode=True,
            mv="sonic-v5",
        )
        with pytest.raises(UpstreamValidationError, match=r"less than the clip duration \(2\.50"):
            await client.create_music(req)


async def test_clip_edits_need_a_clip_younger_than_a_day(env: Env) -> None:
    _, client, clock = env
    generated = await song(client, clock)
    uploaded = await client.upload(UPLOAD_URL)
    clock.now += 24 * 3600 + 1
    remaster = SonicCreate(task_type="remaster", continue_clip_id=generated, mv="sonic-v5")
    with pytest.raises(UpstreamValidationError, match="within the last 24 hours"):
        await client.create_music(remaster)
    vocals = SonicCreate(
        task_type="add_vocals",
        continue_clip_id=uploaded,
        prompt="la",
        mv="sonic-v5",
        overpainting_start_s=0,
        overpainting_end_s=1,
    )
    with pytest.raises(UpstreamValidationError, match="'add_vocals' only works on clips"):
        await client.create_music(vocals)


async def test_upload_gets_the_longer_per_call_timeout(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    sim = await make_sim(upload_time=0.4)
    client = make_client(sim.base_url, request_timeout=0.2, upload_timeout=3, max_retries=0)
    started = time.monotonic()
    assert await client.upload(UPLOAD_URL)
    assert time.monotonic() - started >= 0.4
    sim.stall("/api/v1/get-credits", 0.4)
    with pytest.raises(RequestTimeoutError):  # an ordinary call still times out at 0.2 s
        await client.get_credits()


@pytest.mark.parametrize(
    ("url", "status", "text"),
    [
        ("https://example.com/[sim:catalog-match].mp3", 413, MSG_CATALOG_MATCH),
        ("ftp://example.com/song.mp3", 400, "Audio URL is not accessible"),
        ("https://example.com/[sim:unreachable].mp3", 400, "Audio URL is not accessible"),
    ],
)
async def test_upload_rejections_pass_through(env: Env, url: str, status: int, text: str) -> None:
    sim, client, _ = env
    with pytest.raises(MusicAPIError) as info:
        await client.upload(url)
    assert info.value.status == status and str(info.value).startswith(text)
    assert sim.balance == 10000


# --------------------------------------------------------------------------- one-shot endpoints


async def test_upload_extend_with_auto_concat(env: Env) -> None:
    sim, client, clock = env
    req = UploadExtend(url=UPLOAD_URL, continue_at=0.5, auto_concat=True, **GEN)
    result = await client.upload_extend(req)
    assert isinstance(result, StepsResult) and result.failed_step is None
    assert last_request(sim) == ("POST", "/api/v1/sonic/upload-extend", req.to_body())
    assert result.uploaded_clip_id is not None and sim.clip(result.uploaded_clip_id).uploaded
    assert result.steps["extend"].task_id == result.task_id
    assert sim.balance == 10000 - 2 - 15  # upload + extend (docs/musicapi/protocol.md §1 "implied")
    clock.now += 8.5  # parts final, concat still running: "full stays null"
    waiting = await client.get_task(result.task_id)
    assert waiting.state == "streaming" and not waiting.done
    assert len(waiting.parts) == 2 and waiting.clips == ()
    final = await done(client, clock, "sonic", result.task_id)
    assert final.state == "succeeded"
    assert len(final.clips) == 2 and len(final.parts) == 2
    assert all(c.duration and c.duration > 4 for c in final.clips)  # the stitched full songs


async def test_upload_cover(env: Env) -> None:
    sim, client, clock = env
    result = await client.upload_cover(UploadCover(url=UPLOAD_URL, audio_weight=0.6, **GEN))
    assert last_request(sim)[1] == "/api/v1/sonic/upload-cover"
    assert set(result.steps) == {"upload", "cover"}
    assert sim.tasks[result.task_id].task_type == "cover_upload_music"
    assert len((await done(client, clock, "sonic", result.task_id)).usable_clips) == 2


async def test_failed_upload_step_raises_with_the_step_error(env: Env) -> None:
    sim, client, _ = env
    bad = UploadExtend(url="https://example.com/[sim:catalog-match].mp3", **GEN)
    with pytest.raises(StepFailedError) as info:
        await client.upload_extend(bad)
    assert (info.value.step, str(info.value)) == ("upload", MSG_CATALOG_MATCH)
    assert info.value.uploaded_clip_id is None and sim.balance == 10000 and not sim.tasks
    # A later step failing leaves the (billed) upload usable with the *_upload types.
    with pytest.raises(StepFailedError, match="less than the clip duration") as info:
        await client.upload_extend(UploadExtend(url=UPLOAD_URL, continue_at=30, **GEN))
    assert info.value.step == "extend" and info.value.uploaded_clip_id is not None
    assert sim.balance == 10000 - 2


async def test_failed_step_with_an_error_status_reading(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    sim = await make_sim(step_failure_status=400)
    with pytest.raises(UpstreamValidationError, match=r"^Audio URL is not accessible"):
        await make_client(sim.base_url).upload_cover(UploadCover(url="ftp://x/y.mp3", **GEN))


async def test_sample_from_a_url_and_from_a_clip(env: Env) -> None:
    sim, client, clock = env
    window = {"chop_sample_start_s": 0.5, "chop_sample_end_s": 1.5, "make_instrumental": True}
    from_url = await client.sample(Sample(url=UPLOAD_URL, **window, **GEN))
    assert set(from_url.steps) == {"upload", "sample"} and from_url.uploaded_clip_id
    assert last_request(sim)[1] == "/api/v1/sonic/sample"
    clip_id = await song(client, clock)
    before = sim.balance
    from_clip = await client.sample(Sample(sample_clip_id=clip_id, **window, **GEN))
    assert set(from_clip.steps) == {"sample"} and sim.balance == before - 15
    assert (await done(client, clock, "sonic", from_clip.task_id)).state == "succeeded"
    with pytest.raises(UpstreamValidationError, match="within the clip"):
        too_long = {**window, "chop_sample_end_s": 30}
        await client.sample(Sample(sample_clip_id=clip_id, **too_long, **GEN))


# --------------------------------------------------------------------------- async edits


async def test_mashup_of_two_clips(env: Env) -> None:
    sim, client, clock = env
    first, second = await song(client, clock), await song(client, clock)
    req = Mashup(mashup_clip_ids=(first, second), **GEN)
    task_id = await client.mashup(req)
    assert last_request(sim) == ("POST", "/api/v1/sonic/mashup", req.to_body())
    assert sim.balance == 10000 - 2 * 15 - 14
    assert (await done(client, clock, "sonic", task_id)).state == "succeeded"
    with pytest.raises(UpstreamValidationError, match="'mashup_clip_ids' field is invalid"):
        await client.mashup(Mashup(mashup_clip_ids=(first, "nope"), **GEN))


async def test_stems_basic_and_full_are_real_wavs(env: Env, session: aiohttp.ClientSession) -> None:
    sim, client, clock = env
    clip_id = await song(client, clock)
    task_id = await client.stems_basic(clip_id)
    assert last_request(sim) == ("POST", "/api/v1/sonic/stems/basic", {"clip_id": clip_id})
    basic = await done(client, clock, "sonic", task_id)
    assert [c.title for c in basic.usable_clips] == ["Vocals", "Instrumental"]
    full = await done(client, clock, "sonic", await client.stems_full(clip_id))
    assert len(full.usable_clips) == 12 and len({c.title for c in full.clips}) == 12
    assert sim.balance == 10000 - 15 - 15 - 75
    tones = set()
    for stem in full.clips:
        assert stem.audio_url is not None
        async with session.get(stem.audio_url) as resp:
            audio = await resp.read()
        with wave.open(io.BytesIO(audio)) as w:
            assert w.getnframes() / w.getframerate() == pytest.approx(stem.duration, abs=0.01)
        tones.add(audio[44:1044])
    assert len(tones) > 1  # stems sound different from each other


@pytest.mark.parametrize(("basic", "full"), [(4, 24)])
async def test_stem_count_knobs(
    make_sim: SimFactory, make_client: ClientFactory, basic: int, full: int
) -> None:
    clock = Clock()
    sim = await make_sim(clock=clock, basic_stems=basic, full_stems=full)
    client = make_client(sim.base_url)
    clip_id = await song(client, clock)
    assert len((await done(client, clock, "sonic", await client.stems_basic(clip_id))).clips) == 4
    assert len((await done(client, clock, "sonic", await client.stems_full(clip_id))).clips) == 24


async def test_replace_section(env: Env) -> None:
    sim, client, clock = env
    clip_id = await song(client, clock)
    plain = ReplaceSection(
        clip_id=clip_id, mv="sonic-v5", infill_start_s=0.5, infill_end_s=1.5, infill_lyrics="new"
    )
    task_id = await client.replace_section(plain)
    assert last_request(sim) == ("POST", "/api/v1/sonic/replace-section", plain.to_body())
    status = await done(client, clock, "sonic", task_id)
    assert status.state == "succeeded" and status.parts == () and len(status.clips) == 2
    assert status.clips[0].lyrics == "new"
    plain.auto_concat = True
    paired = await done(client, clock, "sonic", await client.replace_section(plain))
    assert len(paired.clips) == 2 and len(paired.parts) == 2
    assert sim.balance == 10000 - 15 - 10 - 10


async def test_auto_concat_charge_knob(make_sim: SimFactory, make_client: ClientFactory) -> None:
    clock = Clock()
    sim = await make_sim(clock=clock, auto_concat_charges=True)
    client = make_client(sim.base_url)
    clip_id = await song(client, clock)
    req = ReplaceSection(
        clip_id=clip_id, mv="sonic-v5", infill_start_s=0, infill_end_s=1, auto_concat=True
    )
    await client.replace_section(req)
    assert sim.balance == 10000 - 15 - 10 - 2


# --------------------------------------------------------------------------- personas and voices


async def test_persona_newest_and_older_bodies(env: Env) -> None:
    sim, client, clock = env
    clip_id = await song(client, clock)
    persona = await client.create_persona(
        PersonaCreate(name="Warm", clip_id=clip_id, describe="soulful", styles="soul")
    )
    assert persona.name == "Warm" and persona.persona_id.startswith("persona-")
    assert last_request(sim) == (
        "POST",
        "/api/v1/sonic/persona",
        {"name": "Warm", "clip_id": clip_id, "describe": "soulful", "styles": "soul"},
    )
    older = await client.create_persona(
        PersonaCreate(name="Old", continue_clip_id=clip_id, description="d")
    )
    for persona_id in (persona.persona_id, older.persona_id):
        req = SonicCreate(
            task_type="persona_music", persona_id=persona_id, custom_mode=True, mv="sonic-v5",
            prompt="la",
        )  # fmt: skip
        assert (await done(client, clock, "sonic", await client.create_music(req))).state == (
            "succeeded"
        )
    unknown = SonicCreate(
        task_type="persona_music", persona_id="p-x", custom_mode=True, mv="sonic-v5"
    )
    with pytest.raises(UpstreamValidationError) as info:
        await client.create_music(unknown)
    assert (info.value.status, str(info.value)) == (400, MSG_PERSONA_UNKNOWN)


async def test_create_voice_surfaces_a_persona_on_poll(env: Env) -> None:
    sim, client, clock = env
    task_id = await client.create_voice("https://example.com/clean-solo-voice.mp3")
    assert last_request(sim) == (
        "POST",
        "/api/v1/sonic/create-voice",
        {"audio_url": "https://example.com/clean-solo-voice.mp3"},
    )
    clock.now += 5
    training = await client.poll("sonic", task_id)
    assert training.state == "pending" and training.persona is None
    persona_music = SonicCreate(
        task_type="persona_music", custom_mode=True, mv="sonic-v5", prompt="la"
    )
    persona_id = sim.tasks[task_id].extra["persona_id"]
    persona_music.persona_id = persona_id
    with pytest.raises(UpstreamValidationError, match="No persona"):  # not trained yet
        await client.create_music(persona_music)
    status = await done(client, clock, "sonic", task_id)
    assert status.state == "succeeded" and status.clips == ()
    assert status.persona is not None and status.persona.persona_id == persona_id
    assert status.persona.name == "Clean Solo Voice"
    assert await client.create_music(persona_music)
    assert sim.balance == 10000 - 4 - 15


# --------------------------------------------------------------------------- sync utilities


async def test_sync_utilities(env: Env, session: aiohttp.ClientSession) -> None:
    sim, client, clock = env
    clip_id = await song(client, clock)
    before = sim.balance

    bpm = await client.bpm(clip_id)
    assert isinstance(bpm, BpmResult) and bpm.min < bpm.avg < bpm.max
    assert last_request(sim) == ("POST", "/api/v1/sonic/bpm", {"clip_id": clip_id})

    vox = await client.vox(clip_id, 0.5, 2.0)
    assert isinstance(vox, VoxResult) and vox.source_clip_id == clip_id
    assert (vox.vocal_start_s, vox.vocal_end_s) == (0.5, 2.0)
    assert last_request(sim)[2] == {"clip_id": clip_id, "vocal_start_s": 0.5, "vocal_end_s": 2.0}
    with pytest.raises(ValueError, match="30 s"):
        await client.vox(clip_id, 0, 31)
    persona = PersonaCreate(name="V", clip_id=clip_id, vox_audio_id=vox.vox_audio_id)
    assert (await client.create_persona(persona)).persona_id

    wav_url = await client.wav(clip_id)
    async with session.get(wav_url) as resp:
        assert (await resp.read())[:4] == b"RIFF"

    tags = await client.upsample_tags("lofi, chill")
    assert tags.startswith("lofi, chill, ") and len(tags) > len("lofi, chill") + 10
    assert last_request(sim)[1:] == ("/api/v1/sonic/upsample-tags", {"tags": "lofi, chill"})
    # bpm 1 + vox 1 + persona 1 + wav 2 + upsample 1
    assert sim.balance == before - 6


async def test_aligned_lyrics_follow_the_clip_and_repeat_calls_are_free(env: Env) -> None:
    sim, client, clock = env
    clip_id = await song(client, clock)
    before = sim.balance
    words = await client.aligned_lyrics(clip_id)
    assert all(isinstance(w, AlignedWord) for w in words)
    # Section tags are not sung; every other word is, in order, with a trailing space.
    assert "".join(w.word for w in words).split() == (
        "Stars they shine above me Moonlight softly glows Starry night".split()
    )
    assert all(w.start_s < w.end_s for w in words)
    assert all(a.end_s <= b.start_s for a, b in itertools.pairwise(words))
    assert words[-1].end_s <= 2.5
    assert await client.aligned_lyrics(clip_id) == words
    assert sim.balance == before - 1


async def test_midi_not_ready_then_a_real_midi_file(
    make_sim: SimFactory, make_client: ClientFactory, session: aiohttp.ClientSession
) -> None:
    clock = Clock()
    sim = await make_sim(clock=clock, midi_not_ready_calls=1)
    client = make_client(sim.base_url)
    clip_id = await song(client, clock)
    before = sim.balance
    with pytest.raises(NotReadyError) as info:
        await client.midi(clip_id)
    assert info.value.status == 202 and info.value.retryable
    assert client.stats["tools"] == 1  # never busy-retried inside
    assert sim.balance == before  # nothing billed for "not ready"
    midi = await client.midi(clip_id)
    assert isinstance(midi, MidiResult) and midi.instruments[0].notes
    async with session.get(midi.midi_url) as resp:
        assert resp.content_type == "audio/midi"
        data = await resp.read()
    assert data[:4] == b"MThd" and b"MTrk" in data and data.endswith(b"\xff\x2f\x00")
    assert sim.balance == before - 1


async def test_unknown_and_unfinished_clips_are_refused(env: Env) -> None:
    sim, client, clock = env
    with pytest.raises(UpstreamValidationError, match="No clip with this id exists"):
        await client.bpm("no-such-clip")
    task_id = await client.create_music(SONG)
    clip_id = sim.tasks[task_id].clips[0].clip_id
    with pytest.raises(UpstreamValidationError, match="not finished yet"):
        await client.wav(clip_id)
    clock.now += 1000
    assert await client.wav(clip_id)


# --------------------------------------------------------------------------- producer


async def test_producer_lifecycle_and_every_task_type(
    env: Env, session: aiohttp.ClientSession
) -> None:
    sim, client, clock = env
    req = ProducerCreate(sound="lofi hip hop, instrumental, no vocals", title="Late Study")
    task_id = await client.producer_create(req)
    assert last_request(sim) == ("POST", "/api/v1/producer/create", req.to_body())
    states = []
    for _ in range(4):
        states.append((await client.poll("producer", task_id)).state)
        clock.now += 3.5
    assert states == ["pending", "running", "running", "succeeded"]
    status = await client.get_producer_task(task_id)
    (clip,) = status.clips
    assert clip.is_usable and clip.wav_url and status.files == (clip.audio_url,)

    extend = ProducerCreate(task_type="extend_music", clip_id=clip.clip_id, starts=1, length=4)
    extend_id = await client.producer_extend(extend)
    assert last_request(sim)[2]["starts_at"] == 1  # the older name went out as starts_at
    extended = await done(client, clock, "producer", extend_id)
    assert extended.clips[0].duration == pytest.approx(4.0)
    replace = ProducerCreate(
        task_type="replace_music", clip_id=clip.clip_id, starts_at=0, ends_at=1
    )
    await done(client, clock, "producer", await client.producer_replace(replace))
    cover = ProducerCreate(task_type="cover_music", clip_id=clip.clip_id, strength=0.4)
    await done(client, clock, "producer", await client.producer_cover(cover))
    with pytest.raises(ValueError, match="producer_cover needs"):
        await client.producer_cover(extend)
    with pytest.raises(GoneError):  # refused locally: it would only earn a 410
        await client.producer_create(ProducerCreate(task_type="music_variation", clip_id="c"))
    assert sim.balance == 10000 - 10 - 12 - 12 - 12

    for fmt, magic in (("wav", b"RIFF"), ("mp3", b"\xff\xfb")):
        download = await client.producer_download(clip.clip_id, fmt)
        assert last_request(sim)[2] == {"clip_id": clip.clip_id, "format": fmt}
        result = await done(client, clock, "producer", download)
        (url,) = result.files
        assert url.endswith(f".{fmt}") and result.clips == ()
        async with session.get(url) as resp:
            assert (await resp.read())[: len(magic)] == magic


async def test_producer_upload_and_its_task_types(env: Env) -> None:
    sim, client, clock = env
    task_id = await client.producer_upload(UPLOAD_URL)
    assert last_request(sim) == ("POST", "/api/v1/producer/upload", {"audio_url": UPLOAD_URL})
    (uploaded,) = (await done(client, clock, "producer", task_id)).clips
    generated = (await done(client, clock, "producer", await client.producer_create(
        ProducerCreate(sound="pop")
    ))).clips[0]  # fmt: skip
    upload_extend = ProducerCreate(
        task_type="extend_upload_music", clip_id=uploaded.clip_id, starts_at=1
    )
    assert await client.producer_extend(upload_extend)
    with pytest.raises(UpstreamValidationError, match="uploaded yourself"):
        upload_extend.clip_id = generated.clip_id
        await client.producer_extend(upload_extend)
    plain = ProducerCreate(task_type="extend_music", clip_id=uploaded.clip_id, starts_at=1)
    with pytest.raises(UpstreamValidationError, match="cannot be used with music you uploaded"):
        await client.producer_extend(plain)
    sonic_clip = await song(client, clock)  # another family's clip is unknown to Producer
    with pytest.raises(UpstreamValidationError, match="No clip with this id"):
        await client.producer_download(sonic_clip)


async def test_producer_cover_gone_knob(make_sim: SimFactory, make_client: ClientFactory) -> None:
    clock = Clock()
    sim = await make_sim(clock=clock, retired=frozenset({"producer_cover"}))
    client = make_client(sim.base_url)
    clip = (await done(client, clock, "producer", await client.producer_create(
        ProducerCreate(sound="pop")
    ))).clips[0]  # fmt: skip
    with pytest.raises(GoneError) as info:
        await client.producer_cover(ProducerCreate(task_type="cover_music", clip_id=clip.clip_id))
    assert info.value.status == 410 and sim.balance == 10000 - 10


# --------------------------------------------------------------------------- nuro


async def test_nuro_vocal_progress_and_exact_duration(env: Env) -> None:
    sim, client, clock = env
    task_id = await client.nuro_vocal(VOCAL)
    assert last_request(sim) == ("POST", "/api/v1/nuro/create", VOCAL.to_body())
    seen = []
    for _ in range(6):
        status = await client.poll("nuro", task_id)
        seen.append((status.state, status.progress))
        clock.now += 2.0
    assert seen == [
        ("pending", 0),
        ("pending", 20),
        ("running", 40),
        ("running", 60),
        ("running", 80),
        ("succeeded", 100),
    ]
    (clip,) = (await client.get_nuro_task(task_id)).clips
    assert clip.clip_id == task_id and clip.duration == pytest.approx(30.0)
    assert clip.tags == "Pop, Romantic" and clip.is_usable
    assert sim.balance == 10000 - 10


async def test_nuro_bgm_v1_and_v2(env: Env) -> None:
    sim, client, clock = env
    v1 = NuroBgm(description="calm", genre=("ambient",), mood=("calm",), duration=20)
    status = await done(client, clock, "nuro", await client.nuro_bgm(v1))
    assert status.clips[0].duration == pytest.approx(20.0)
    v2 = NuroBgm(
        description="cinematic",
        version="v2.0",
        segments=(NuroSegment("intro", 10), NuroSegment("chorus", 80)),
    )
    await client.nuro_bgm(v2)
    assert last_request(sim)[2]["duration"] == 90


async def test_nuro_errors_carry_their_type(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    clock = Clock()
    sim = await make_sim(clock=clock, credits=15)
    client = make_client(sim.base_url, max_retries=0)
    with pytest.raises(RateLimitedError) as info:  # throttling, not a content refusal
        await client.nuro_vocal(NuroVocal(**{**vars_of(VOCAL), "lyrics": "[sim:queue-full]"}))
    assert (str(info.value), info.value.error_type) == ("Queue is full", "forbidden")
    assert info.value.refund_implied
    with pytest.raises(UpstreamValidationError) as info:
        await client.nuro_vocal(NuroVocal(**{**vars_of(VOCAL), "lyrics": "[sim:language]"}))
    assert (str(info.value), info.value.error_type) == (
        "Input language not supported",
        "bad_request",
    )
    with pytest.raises(NotFoundError) as info:
        await client.get_nuro_task("nope")
    assert (str(info.value), info.value.error_type) == ("Task not found", "not_found")
    assert not info.value.refund_implied

    task_id = await client.nuro_vocal(NuroVocal(**{**vars_of(VOCAL), "lyrics": "[sim:fail] x"}))
    assert sim.balance == 5
    with pytest.raises(InsufficientCreditsError, match="API usage limit exceeded"):
        await client.nuro_vocal(VOCAL)
    failed = await done(client, clock, "nuro", task_id)
    assert failed.failure is not None
    assert (failed.failure.kind, failed.failure.message) == ("api_error", "Algorithm error")
    assert sim.balance == 15  # api_error is refunded
    with pytest.raises(AuthError) as info:
        await make_client(sim.base_url, api_key="wrong").get_nuro_task(task_id)
    assert (str(info.value), info.value.error_type) == ("Invalid signature", "unauthorized")


def vars_of(req: NuroVocal) -> dict[str, Any]:
    return {name: getattr(req, name) for name in req.__dataclass_fields__}


# --------------------------------------------------------------------------- riffusion, studio


async def test_riffusion_keeps_polling_while_one_song_is_present(env: Env) -> None:
    sim, client, clock = env
    req = RiffusionCreate(custom_mode=True, mv="FUZZ-1.1 Pro", lyrics="[Verse]\nla", sound="indie")
    task_id = await client.riffusion_create(req)
    assert last_request(sim) == ("POST", "/api/v1/riffusion/create", req.to_body())
    clock.now += 7.5
    one = await client.poll("riffusion", task_id)
    assert len(one.clips) == 1 and one.clips[0].is_usable
    assert one.state == "streaming" and not one.done
    clock.now += 1.5
    two = await client.poll("riffusion", task_id)
    assert len(two.clips) == 2 and not two.done
    clock.now += 1.0
    final = await client.get_riffusion_task(task_id)
    assert final.state == "succeeded" and len(final.usable_clips) == 2
    assert sim.balance == 10000 - 12

    uploaded = await client.riffusion_upload(UPLOAD_URL)
    assert last_request(sim) == ("POST", "/api/v1/riffusion/upload", {"url": UPLOAD_URL})
    cover = RiffusionCreate(task_type="cover_upload_music", continue_clip_id=uploaded)
    assert await client.riffusion_create(cover)
    cover.task_type = "cover_music"
    with pytest.raises(UpstreamValidationError, match="cannot be used with music you uploaded"):
        await client.riffusion_create(cover)


async def test_studio(env: Env) -> None:
    sim, client, clock = env
    req = StudioCreate(
        lyrics_type="user", prompt="rock, pop soul", lyrics="la la", model_type="studio130-v1.5"
    )
    task_id = await client.studio_create(req)
    assert last_request(sim) == ("POST", "/api/v1/studio/create", req.to_body())
    assert sim.balance == 10000 - 30  # studio130 is double
    first = await client.poll("studio", task_id)
    assert (first.state, first.progress) == ("pending", 0)
    clock.now += 5
    assert (await client.poll("studio", task_id)).progress == 50
    status = await done(client, clock, "studio", task_id)
    assert status.state == "succeeded" and len(status.usable_clips) == 2
    assert status.clips[0].tags == "rock, pop soul"
    extend = StudioCreate(
        lyrics_type="instrumental",
        config={"mode": "continuation", "source": {"song_id": status.clips[0].clip_id}},
    )
    assert await client.studio_create(extend)


# --------------------------------------------------------------------------- the poll contract


async def test_poll_dispatches_by_family(env: Env) -> None:
    _, client, clock = env
    ids = {
        "sonic": await client.create_music(SONG),
        "producer": await client.producer_create(ProducerCreate(sound="pop")),
        "nuro": await client.nuro_vocal(VOCAL),
        "riffusion": await client.riffusion_create(RiffusionCreate(custom_mode=False, prompt="x")),
        "studio": await client.studio_create(StudioCreate(lyrics_type="generate", prompt="x")),
    }
    assert set(ids) == set(families.names())
    clock.now += 1000
    for family, task_id in ids.items():
        status = await client.poll(family, task_id)
        assert isinstance(status, TaskStatus) and status.task_id == task_id
        assert status.state == "succeeded" and status.usable_clips, family
        # An id is only known to its own family's poll endpoint.
        other = "producer" if family == "sonic" else "sonic"
        with pytest.raises(NotFoundError):
            await client.poll(other, task_id)
    with pytest.raises(ValueError, match="family must be one of"):
        await client.poll("suno", ids["sonic"])
    with pytest.raises(ValueError):
        await client.poll("nuro", "")
    assert client.stats["poll"] == 10


@pytest.mark.parametrize("family", ["nuro", "riffusion", "studio"])
async def test_retired_family_knob(
    make_sim: SimFactory, make_client: ClientFactory, family: str
) -> None:
    sim = await make_sim(retired=frozenset({family}))
    client = make_client(sim.base_url)
    submit = {
        "nuro": lambda: client.nuro_vocal(VOCAL),
        "riffusion": lambda: client.riffusion_create(
            RiffusionCreate(custom_mode=False, prompt="x")
        ),
        "studio": lambda: client.studio_create(StudioCreate(lyrics_type="generate", prompt="x")),
    }[family]
    with pytest.raises(GoneError) as info:
        await submit()
    assert info.value.status == 410 and str(info.value)
    with pytest.raises(GoneError):
        await client.poll(family, "any-id")
    assert sim.balance == 10000
    assert await client.create_music(SONG)  # the rest of the API is unaffected


async def test_a_failing_source_fails_what_is_made_from_it(env: Env) -> None:
    sim, client, clock = env
    clip_id = await client.upload("https://example.com/[sim:fail].mp3")
    task_id = await client.stems_basic(clip_id)
    assert sim.balance == 10000 - 2 - 15
    status = await done(client, clock, "sonic", task_id)
    assert status.state == "failed" and status.failure is not None
    assert sim.balance == 10000 - 2  # the stems were refunded, the upload was not
