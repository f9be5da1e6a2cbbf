"""The official ``musicapi-sdk`` (sync, httpx) against the simulator.

This proves the simulator speaks the real protocol as an independent implementation reads it:
envelopes, status codes, the 202 "not ready" phase, failure bodies and Retry-After.

SDK quirks, deliberately NOT mirrored by adapting the simulator (they contradict
docs/musicapi/protocol.md):
- ``generate_and_wait`` stops at the first 200 body with ``code == 200``, even while clips are
  still pending/running; docs/musicapi/protocol.md §2.3 says a task is done only when every clip is
  final, so these tests keep polling ``get_task``.
- ``sonic.get_task`` cannot parse a 200 failure body (``{"type": "failed", ...}`` has no
  ``code``), so the failure test goes through the SDK's own poll loop.
- ``TaskSubmitResponse(**body)`` would reject the older submit envelope with ``"code": 200``
  that docs/musicapi/protocol.md §2.2 says to accept; the simulator's default (no ``code``) is the
  newest one.
- Producer and Riffusion ``*_and_wait`` use the same ``code == 200`` test, so they return while
  Producer's top-level ``status`` is still PENDING/RUNNING and while Riffusion has only one of
  its two songs (docs/musicapi/protocol.md §2.4). ``download_and_wait`` therefore returns
  ``data == []``.
- ``ProducerTaskType`` omits ``cover_music`` ("returns 410"); docs/musicapi/protocol.md §7 says
  cover was re-enabled on 2026-05-20. The simulator accepts it (``retired={"producer_cover"}`` is
  the SDK's reading), and the SDK still sends it because Literal types are not enforced.
- ``StudioSong.tags`` is typed ``str``; the documented Studio poll has a list of tags. The SDK
  passes the list through untouched.
- ``StudioCreateParams`` makes the four strengths, ``model_type`` and ``config`` required;
  docs/musicapi/protocol.md §8 lists them without saying so, and the simulator requires only
  ``lyrics_type``.
- ``midi()`` has no "not ready" signal of its own: on HTTP 202 it returns whatever body came
  (the simulator's ``{code: 202, message, data: null}``, since the docs show none).
- There is no Nuro resource in the SDK; Nuro is covered by the client tests only.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from musicapi import (
    AlignedLyricsParams,
    BpmParams,
    CreatePersonaParams,
    CreateVoiceParams,
    GetSongParams,
    MakeLyricsParams,
    MashupParams,
    MidiParams,
    MusicAPI,
    MusicAPIError,
    PollOptions,
    ProducerCreateParams,
    ProducerDownloadParams,
    ProducerUploadParams,
    ReplaceSectionParams,
    RiffusionCreateParams,
    RiffusionUploadParams,
    SampleParams,
    SonicCreateParams,
    SonicLyricsParams,
    SonicUploadParams,
    StemsParams,
    StudioCreateParams,
    UploadCoverParams,
    UploadExtendParams,
    UpsampleTagsParams,
    VoxParams,
    WavParams,
)
from musicapi._polling import poll_sonic

from bot.musicapi.models import parse_duration
from bot.simulator import (
    MSG_ARTIST,
    MSG_CREDITS,
    BackgroundSimulator,
    SimulatorConfig,
)
from tests.helpers import Clock

from .conftest import TEST_KEY
from .fixtures import load_example

FAST = PollOptions(poll_interval_ms=20, timeout_ms=10_000)


@pytest.fixture
def background() -> Iterator[BackgroundSimulator]:
    with BackgroundSimulator(SimulatorConfig(generation_time=0.3, api_key=TEST_KEY, seed=7)) as bg:
        yield bg


@pytest.fixture
def sdk(background: BackgroundSimulator) -> Iterator[MusicAPI]:
    with MusicAPI(
        api_key=TEST_KEY, base_url=f"{background.base_url}/api/v1", timeout=5, max_retries=2
    ) as client:
        yield client


def params(text: str = "uplifting synthwave with female vocals") -> SonicCreateParams:
    return SonicCreateParams(custom_mode=False, mv="sonic-v5", gpt_description_prompt=text)


def wait_final(sdk: MusicAPI, task_id: str, timeout: float = 10.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = sdk.sonic.get_task(task_id)
        states = [song.state for song in result.data]
        if states and all(s in ("succeeded", "failed") for s in states):
            return states
        time.sleep(0.02)
    raise AssertionError("task never finished")


def test_create_poll_finish(sdk: MusicAPI, background: BackgroundSimulator) -> None:
    submit = sdk.sonic.create(params())
    assert submit.message == "success"
    assert submit.task_id in background.sim.tasks

    first = sdk.sonic.get_task(submit.task_id)
    assert (first.code, first.data, first.message) == (202, [], "not_ready")

    assert wait_final(sdk, submit.task_id) == ["succeeded", "succeeded"]
    final = sdk.sonic.get_task(submit.task_id)
    assert final.code == 200 and final.message == "success"
    for song in final.data:
        assert song.clip_id and song.audio_url and song.image_url
        assert song.mv == "chirp-v5"
        # The SDK passes the observed decimal string through untouched.
        assert parse_duration(song.duration) is not None


def test_generate_and_wait(sdk: MusicAPI, background: BackgroundSimulator) -> None:
    result = sdk.sonic.generate_and_wait(params(), FAST)
    # Returns on the first clip list (the quirk above); the 202 phase was waited out.
    assert result.code == 200 and len(result.data) == 2
    (task_id,) = background.sim.tasks
    assert background.sim.polls_by_task[task_id] >= 2
    assert wait_final(sdk, task_id) == ["succeeded", "succeeded"]


def test_credits_and_lyrics(sdk: MusicAPI) -> None:
    assert (sdk.credits.get().credits, sdk.credits.get().extra_credits) == (10000, 0)
    sdk.sonic.create(params())
    assert sdk.credits.get().credits == 10000 - 15
    lyrics = sdk.sonic.lyrics(SonicLyricsParams(description="a song about the sea"))
    assert lyrics.code == 200 and len(lyrics.results) == 2
    assert all({"title", "lyrics"} <= set(r) for r in lyrics.results)


def test_upstream_failure_body(sdk: MusicAPI, background: BackgroundSimulator) -> None:
    submit = sdk.sonic.create(params("[sim:fail] x"))
    assert sdk.credits.get().credits == 10000 - 15
    # Wait until the failure is due: generate_and_wait would have returned on the earlier
    # pending clip list, and the SDK's get_task cannot parse a failure body (KeyError 'code').
    time.sleep(max(0.0, background.sim.completed_at(submit.task_id) - time.monotonic()) + 0.05)
    with pytest.raises(MusicAPIError) as info:
        poll_sonic(sdk._http, submit.task_id, FAST)
    assert info.value.code == "failed" and str(info.value)
    assert sdk.credits.get().credits == 10000  # refunded


def test_error_statuses(sdk: MusicAPI, background: BackgroundSimulator) -> None:
    with pytest.raises(MusicAPIError) as info:
        sdk.sonic.get_task("no-such-task")
    assert info.value.status == 404 and str(info.value) == "task not found."

    with pytest.raises(MusicAPIError) as info:
        sdk.sonic.create(params("[sim:moderate]"))
    assert info.value.status == 403 and str(info.value) == MSG_ARTIST

    background.sim.balance = 3
    with pytest.raises(MusicAPIError) as info:
        sdk.sonic.create(params())
    assert info.value.is_credit_error and str(info.value) == MSG_CREDITS

    with MusicAPI(api_key="wrong", base_url=f"{background.base_url}/api/v1") as other:
        with pytest.raises(MusicAPIError) as info:
            other.credits.get()
    assert info.value.is_auth_error


def test_sdk_retries_429_and_5xx(sdk: MusicAPI, background: BackgroundSimulator) -> None:
    background.sim.inject("/api/v1/get-credits", 429, headers={"Retry-After": "0.2"})
    background.sim.inject("/api/v1/get-credits", 503)
    started = time.monotonic()
    assert sdk.credits.get().credits == 10000
    # Retry-After honoured on the 429; the 503 costs the SDK's own ~1 s backoff.
    assert time.monotonic() - started >= 0.2
    calls = [p for _, p, _ in background.sim.requests if p == "/api/v1/get-credits"]
    assert len(calls) == 3


# --------------------------------------------------------------------------- every other method

URL = "https://example.com/my-own-song.mp3"


@pytest.fixture
def clocked() -> Iterator[tuple[MusicAPI, BackgroundSimulator, Clock]]:
    """An SDK client on a simulator whose time moves only when a test says so."""
    clock = Clock()
    config = SimulatorConfig(
        generation_time=10.0, api_key=TEST_KEY, clock=clock, midi_not_ready_calls=1, seed=7
    )
    with (
        BackgroundSimulator(config) as bg,
        MusicAPI(
            api_key=TEST_KEY, base_url=f"{bg.base_url}/api/v1", timeout=5, max_retries=0
        ) as client,
    ):
        yield client, bg, clock


Clocked = tuple[MusicAPI, BackgroundSimulator, Clock]


def finished_song(sdk: MusicAPI, clock: Clock) -> str:
    submit = sdk.sonic.create(
        SonicCreateParams(custom_mode=True, mv="sonic-v5", lyrics="[Verse]\nhello there world")
    )
    clock.now += 1000
    return sdk.sonic.get_task(submit.task_id).data[0].clip_id


def test_sonic_sync_utilities(clocked: Clocked) -> None:
    sdk, bg, clock = clocked
    clip_id = finished_song(sdk, clock)
    words = sdk.sonic.aligned_lyrics(AlignedLyricsParams(clip_id=clip_id)).data["alignment"]
    assert [w["word"] for w in words] == ["hello ", "there ", "world "]
    bpm = sdk.sonic.bpm(BpmParams(clip_id=clip_id))
    assert bpm.code == 200 and bpm.data["min_bpm"] < bpm.data["avg_bpm"] < bpm.data["max_bpm"]
    upsampled = sdk.sonic.upsample_tags(UpsampleTagsParams(tags="lofi")).data["upsampled_tags"]
    assert upsampled.startswith("lofi, ")
    vox = sdk.sonic.vox(VoxParams(clip_id=clip_id, vocal_start_s=0, vocal_end_s=1))
    persona = sdk.sonic.create_persona(
        CreatePersonaParams(name="V", clip_id=clip_id, vox_audio_id=vox.data["vox_audio_id"])
    )
    assert persona.code == 200 and persona.persona_id in bg.sim.personas
    assert sdk.sonic.wav(WavParams(clip_id=clip_id)).data["wav_url"].endswith(".wav")
    not_ready = sdk.sonic.midi(MidiParams(clip_id=clip_id))
    assert (not_ready.code, not_ready.data) == (202, None)
    midi = sdk.sonic.midi(MidiParams(clip_id=clip_id))
    assert midi.code == 200 and midi.data["midi_url"].endswith(".mid")
    # song 15, aligned 1, bpm 1, upsample 1, vox 1, persona 1, wav 2, midi 1: the 202 was free
    assert bg.sim.balance == 10000 - 15 - 1 - 1 - 1 - 1 - 1 - 2 - 1


def test_sonic_async_endpoints(clocked: Clocked) -> None:
    sdk, bg, clock = clocked
    clip_id = finished_song(sdk, clock)
    uploaded = sdk.sonic.upload(SonicUploadParams(url=URL))
    assert uploaded.code == 200 and bg.sim.clip(uploaded.clip_id).uploaded
    submits = [
        sdk.sonic.stems_basic(StemsParams(clip_id=clip_id)),
        sdk.sonic.stems_full(StemsParams(clip_id=clip_id)),
        sdk.sonic.mashup(
            MashupParams(
                mashup_clip_ids=(clip_id, clip_id),
                custom_mode=False,
                mv="sonic-v5",
                gpt_description_prompt="mix",
            )
        ),
        sdk.sonic.replace_section(
            ReplaceSectionParams(clip_id=clip_id, mv="sonic-v5", infill_start_s=0, infill_end_s=1)
        ),
        sdk.sonic.create_voice(CreateVoiceParams(audio_url="https://example.com/voice.mp3")),
    ]
    generation = {"custom_mode": False, "mv": "sonic-v5", "gpt_description_prompt": "jazz"}
    cover = sdk.sonic.upload_cover(UploadCoverParams(url=URL, **generation))
    extend = sdk.sonic.upload_extend(UploadExtendParams(url=URL, continue_at=0.5, **generation))
    sample = sdk.sonic.sample(
        SampleParams(
            chop_sample_start_s=0,
            chop_sample_end_s=1,
            make_instrumental=True,
            sample_clip_id=uploaded.clip_id,
            **generation,
        )
    )
    for result, step in ((cover, "cover"), (extend, "extend"), (sample, "sample")):
        assert result.code == 200 and result.failed_step is None and result.task_id
        assert result.steps is not None and result.steps[step]["success"]
    clock.now += 1000
    finished = [sdk.sonic.get_task(s.task_id) for s in submits[:4]]
    assert [len(r.data) for r in finished] == [2, 12, 2, 2]
    assert [s.title for s in finished[0].data] == ["Vocals", "Instrumental"]
    assert all(s.state == "succeeded" and s.audio_url for r in finished for s in r.data)
    # create-voice's object ``data`` is not a song list: the SDK's song parser cannot read it,
    # which is why the bot's own client surfaces it as TaskStatus.persona.
    with pytest.raises(AttributeError):
        sdk.sonic.get_task(submits[4].task_id)
    failed = sdk.sonic.upload_extend(
        UploadExtendParams(url="https://example.com/[sim:catalog-match].mp3", **generation)
    )
    assert failed.failed_step == "upload" and failed.task_id is None
    assert failed.message == failed.steps["upload"]["error"]


def test_sonic_and_wait_helpers(sdk: MusicAPI, background: BackgroundSimulator) -> None:
    submit = sdk.sonic.create(params())
    time.sleep(max(0.0, background.sim.completed_at(submit.task_id) - time.monotonic()))
    clip_id = sdk.sonic.get_task(submit.task_id).data[0].clip_id
    basic = sdk.sonic.stems_basic_and_wait(StemsParams(clip_id=clip_id), FAST)
    full = sdk.sonic.stems_full_and_wait(StemsParams(clip_id=clip_id), FAST)
    mashup = sdk.sonic.mashup_and_wait(
        MashupParams(
            mashup_clip_ids=(clip_id, clip_id),
            custom_mode=False,
            mv="sonic-v5",
            gpt_description_prompt="mix",
        ),
        FAST,
    )
    replace = sdk.sonic.replace_section_and_wait(
        ReplaceSectionParams(clip_id=clip_id, mv="sonic-v5", infill_start_s=0, infill_end_s=1),
        FAST,
    )
    # Each returns at the first clip list (the code == 200 quirk), with every entry present.
    assert [len(r.data) for r in (basic, full, mashup, replace)] == [2, 12, 2, 2]


def test_producer(clocked: Clocked) -> None:
    sdk, bg, clock = clocked
    submit = sdk.producer.create(ProducerCreateParams(sound="lofi", title="Late Study"))
    pending = sdk.producer.get_task(submit.task_id)
    # code 200 while PENDING: the SDK's result type has no field for the real status.
    assert pending.code == 200 and pending.data[0].state == "pending"
    clock.now += 1000
    song = sdk.producer.get_task(submit.task_id).data[0]
    assert song.state == "succeeded" and song.audio_url and song.wav_url
    extend = sdk.producer.create(
        ProducerCreateParams(task_type="extend_music", clip_id=song.clip_id, starts_at=1)
    )
    cover = sdk.producer.create(
        ProducerCreateParams(task_type="cover_music", clip_id=song.clip_id)  # type: ignore[arg-type]
    )
    upload = sdk.producer.upload(ProducerUploadParams(audio_url=URL))
    download = sdk.producer.download(ProducerDownloadParams(clip_id=song.clip_id, format="wav"))
    clock.now += 1000
    for task in (extend, cover, upload):
        assert sdk.producer.get_task(task.task_id).data[0].state == "succeeded"
    (file,) = sdk.producer.get_task(download.task_id).data
    assert file.audio_url.endswith(".wav") and file.clip_id is None
    assert bg.sim.balance == 10000 - 10 - 12 - 12 - 2 - 2


def test_producer_and_wait_helpers(sdk: MusicAPI, background: BackgroundSimulator) -> None:
    result = sdk.producer.generate_and_wait(ProducerCreateParams(sound="pop"), FAST)
    # Returned on the first poll (code 200) although the status was not SUCCESS yet.
    assert result.code == 200 and result.data[0].state != "succeeded"
    (task_id,) = background.sim.tasks
    time.sleep(max(0.0, background.sim.completed_at(task_id) - time.monotonic()) + 0.02)
    download = sdk.producer.download_and_wait(
        ProducerDownloadParams(clip_id=result.data[0].clip_id, format="wav"), FAST
    )
    assert (download.code, download.data) == (200, [])  # PENDING, not the file


def test_riffusion(clocked: Clocked) -> None:
    sdk, bg, clock = clocked
    submit = sdk.riffusion.create(
        RiffusionCreateParams(task_type="create_music", custom_mode=False, prompt="indie pop")
    )
    clock.now += 7.5
    assert [s.state for s in sdk.riffusion.get_task(submit.task_id).data] == ["succeeded"]
    clock.now += 1000
    assert [s.state for s in sdk.riffusion.get_task(submit.task_id).data] == ["succeeded"] * 2
    uploaded = sdk.riffusion.upload(RiffusionUploadParams(url=URL))
    assert uploaded.code == 200 and bg.sim.clip(uploaded.clip_id).family == "riffusion"
    swap = sdk.riffusion.create(
        RiffusionCreateParams(
            task_type="swap_upload_music_vocals", continue_clip_id=uploaded.clip_id
        )
    )
    assert swap.task_id in bg.sim.tasks


def test_riffusion_and_studio_wait_helpers(sdk: MusicAPI) -> None:
    riffusion = sdk.riffusion.generate_and_wait(
        RiffusionCreateParams(custom_mode=False, prompt="x"), FAST
    )
    assert riffusion.code == 200  # returns early: maybe one song, maybe none yet
    studio = sdk.studio.generate_and_wait(
        StudioCreateParams(
            prompt="rock",
            lyrics_type="generate",
            prompt_strength=0.5,
            clarity_strength=0.25,
            lyrics_strength=0.5,
            generation_quality=0.75,
            model_type="studio32-v1.5",
            config={"mode": "regular"},
        ),
        FAST,
    )
    # Studio's test is data.status == "SUCCESS", so this one really waits for the songs.
    assert studio.code == "success" and studio.data is not None
    assert studio.data.status == "SUCCESS" and studio.data.songs and len(studio.data.songs) == 2
    assert all(song.song_path for song in studio.data.songs)


def test_studio(clocked: Clocked) -> None:
    sdk, bg, clock = clocked
    example = load_example("studio-create-request-custom")["body"]
    submit = sdk.studio.create(StudioCreateParams(**example))
    assert submit.code == "200" and submit.data in bg.sim.tasks
    first = sdk.studio.get_task(submit.data)
    assert first.data is not None and first.data.status == "NOT_START"
    clock.now += 1000
    done = sdk.studio.get_task(submit.data)
    assert done.data is not None and done.data.status == "SUCCESS"
    assert done.data.songs is not None and isinstance(done.data.songs[0].tags, list)


def test_suno_aliases(clocked: Clocked) -> None:
    sdk, _, clock = clocked
    submit = sdk.suno.create(params())
    clock.now += 1000
    clip = sdk.suno.get_clip(submit.task_id)
    assert clip.code == 200 and len(clip.data) == 2
    lyrics = sdk.suno.make_lyrics(MakeLyricsParams(prompt="the sea"))
    got = sdk.suno.get_lyrics(lyrics.data["task_id"])
    assert got.code == 200 and "the sea" in got.data["text"]
    song = sdk.suno.get_song(
        GetSongParams(share_link=f"https://suno.com/song/{clip.data[0].clip_id}")
    )
    assert song.audio_url and song.song_title == clip.data[0].title


def test_suno_generate_and_wait(sdk: MusicAPI) -> None:
    assert sdk.suno.generate_and_wait(params(), FAST).code == 200
