"""The family builders (Producer, Nuro, Riffusion, Studio), their operations, and the owner's
feature switches: pure checks first, then the switches on a real (temporary) database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.errors import InputError
from bot.features import FEATURES, FeatureOff, Features
from bot.jobs import family_operations as family
from bot.musicapi.errors import GoneError
from bot.musicapi.families.riffusion import RiffusionCreate
from bot.store.clips import StoredClip
from bot.store.database import Database
from bot.validation import families as validate
from bot.validation.built import checked
from tests.helpers import refused, stored_clip


def clip(duration: float | None = 10.0) -> StoredClip:
    return stored_clip(title="Rain", tags="lofi", lyrics="", duration=duration, model="lyria-3-pro")


# -- Producer ------------------------------------------------------------------------------


def test_producer_create_needs_lyrics_or_sound_and_builds_the_body() -> None:
    error = refused(validate.build_producer_create, lyrics=" ", sound=None, title=None, length=None)
    assert error.field == "lyrics" and "`sound`" in str(error)
    request = validate.build_producer_create(
        lyrics=None, sound=" instrumental, no vocals ", title="t" * 80, length=240
    )
    assert request.to_body() == {
        "task_type": "create_music",
        "sound": "instrumental, no vocals",
        "title": "t" * 80,
        "length": 240,
    }


@pytest.mark.parametrize(
    ("options", "field", "limit"),
    [
        ({"title": "t" * 81}, "title", "80"),
        ({"length": 0}, "length", "1 to 240"),
        ({"length": 241}, "length", "1 to 240"),
    ],
)
def test_producer_create_limits_name_the_option(
    options: dict[str, Any], field: str, limit: str
) -> None:
    base: dict[str, Any] = {"lyrics": None, "sound": "lofi", "title": None, "length": None}
    error = refused(validate.build_producer_create, **(base | options))
    assert error.field == field and limit in str(error)


def test_producer_extend_may_start_at_the_very_end_but_not_past_it() -> None:
    request = validate.build_producer_extend(
        clip(), uploaded=False, starts_at=10.0, instruction=None, lyrics="la", length=None
    )
    assert request.to_body() == {
        "task_type": "extend_music", "clip_id": clip().clip_id, "starts_at": 10.0, "lyrics": "la",
    }  # fmt: skip
    for starts_at, words in ((10.01, "10 seconds"), (-0.5, "negative")):
        error = refused(
            validate.build_producer_extend, clip=clip(), uploaded=False, starts_at=starts_at,
            instruction=None, lyrics=None, length=None,
        )  # fmt: skip
        assert error.field == "starts_at" and words in str(error)


def test_producer_edits_of_uploads_take_the_upload_task_types() -> None:
    common = {"clip": clip(), "uploaded": True}
    extend = validate.build_producer_extend(
        **common, starts_at=1.0, instruction=None, lyrics=None, length=None
    )
    replace = validate.build_producer_replace(**common, starts_at=1, ends_at=2, instruction=None)
    cover = validate.build_producer_cover(**common, instruction=None, strength=None)
    assert [r.task_type for r in (extend, replace, cover)] == [
        "extend_upload_music", "replace_upload_music", "cover_upload_music",
    ]  # fmt: skip


def test_producer_replace_window_rules() -> None:
    def replace(start: float, end: float) -> InputError:
        return refused(
            validate.build_producer_replace, clip=clip(), uploaded=False, starts_at=start,
            ends_at=end, instruction=None,
        )  # fmt: skip

    assert replace(3, 3).field == "ends_at" and "after" in str(replace(3, 3))
    assert replace(3, 10.5).field == "ends_at" and "10 seconds" in str(replace(3, 10.5))
    assert replace(-1, 2).field == "starts_at"
    # An unknown length (no duration from upstream) leaves only the order to check.
    request = validate.build_producer_replace(
        clip(None), uploaded=False, starts_at=3, ends_at=500, instruction="drums"
    )
    assert (request.starts_at, request.ends_at, request.instruction) == (3, 500, "drums")


def test_producer_cover_strength_is_zero_to_one() -> None:
    for strength in (-0.1, 1.01):
        error = refused(
            validate.build_producer_cover, clip=clip(), uploaded=False, instruction=None,
            strength=strength,
        )  # fmt: skip
        assert error.field == "strength" and "0 and 1" in str(error)
    ok = validate.build_producer_cover(clip(), uploaded=False, instruction="waltz", strength=1)
    assert ok.to_body()["strength"] == 1


def test_producer_only_edits_its_own_songs() -> None:
    assert validate.producer_clip_is_upload(clip(), "producer", "producer_create") is False
    assert validate.producer_clip_is_upload(clip(), "producer", "producer_upload") is True
    for made_by in (("sonic", "create_music"), ("nuro", "nuro"), ("producer", "producer_download")):
        error = refused(
            validate.producer_clip_is_upload, clip=clip(), made_by_family=made_by[0],
            made_by_operation=made_by[1],
        )  # fmt: skip
        assert error.field == "clip" and "/producer" in str(error)


def test_download_format_is_mp3_or_wav() -> None:
    assert validate.check_download_format("WAV") == "wav"
    error = refused(validate.check_download_format, value="flac")
    assert error.field == "format" and "mp3, wav" in str(error)


# -- Nuro ----------------------------------------------------------------------------------


def test_nuro_vocal_fills_what_nuro_requires_from_the_docs_example() -> None:
    request = validate.build_nuro_vocal(
        lyrics=" [verse] hi ", duration=30, genre="hip hop/rap", mood=None, gender=None,
        timbre="sweet_audio_timbre",
    )  # fmt: skip
    assert request.to_body() == {
        "type": "vocal", "lyrics": "[verse] hi", "duration": 30, "genre": "Hip Hop/Rap",
        "mood": "Romantic", "gender": "Female", "timbre": "Sweet_AUDIO_TIMBRE",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("options", "field", "words"),
    [
        ({"duration": 29}, "duration", "30 to 240"),
        ({"duration": 241}, "duration", "30 to 240"),
        ({"lyrics": "x" * 2001}, "lyrics", "2000"),
        ({"lyrics": ""}, "lyrics", "required"),
        ({"gender": "Robot"}, "gender", "Female, Male"),
        ({"timbre": "Shouty"}, "timbre", "Shouty"),
    ],
)
def test_nuro_vocal_limits(options: dict[str, Any], field: str, words: str) -> None:
    base: dict[str, Any] = {
        "lyrics": "la", "duration": 60, "genre": None, "mood": None, "gender": None, "timbre": None,
    }  # fmt: skip
    error = refused(validate.build_nuro_vocal, **(base | options))
    assert error.field == field and words in str(error)


def test_nuro_bgm_lists_are_parsed_deduplicated_and_capped() -> None:
    request = validate.build_nuro_bgm(
        description="a launch", duration=60, genre="Cinematic,  epic ,cinematic,",
        mood=None, instrument="piano",
    )  # fmt: skip
    assert request.to_body() == {
        "type": "bgm", "description": "a launch", "duration": 60,
        "genre": ["cinematic", "epic"], "instrument": ["piano"],
    }  # fmt: skip
    six = "pop, rock, jazz, funk, folk, dance"
    base: dict[str, Any] = {"description": "d", "duration": 30, "mood": None, "instrument": None}
    error = refused(validate.build_nuro_bgm, **base, genre=six)
    assert error.field == "genre" and "at most 5" in str(error)
    error = refused(validate.build_nuro_bgm, **base, genre="pop, polka")
    assert error.field == "genre" and "polka" in str(error)
    for duration in (0, 61):
        error = refused(validate.build_nuro_bgm, **(base | {"duration": duration}), genre=None)
        assert error.field == "duration" and "1 to 60" in str(error)


# -- Riffusion and Studio ------------------------------------------------------------------


def test_riffusion_modes() -> None:
    def build(**options: Any) -> RiffusionCreate:
        base: dict[str, Any] = {
            "description": None, "lyrics": None, "sound": None, "title": None,
            "instrumental": False, "model": None,
        }  # fmt: skip
        return validate.build_riffusion(**(base | options))

    described = build(description="radios", model="fuzz-1.1 pro").to_body()
    assert described == {
        "task_type": "create_music", "custom_mode": False, "prompt": "radios", "mv": "FUZZ-1.1 Pro",
    }  # fmt: skip
    sung = build(lyrics="[Verse] la").to_body()
    assert sung["custom_mode"] is True and sung["lyrics"] == "[Verse] la"
    bare = build(instrumental=True).to_body()
    assert bare == {"task_type": "create_music", "custom_mode": True, "make_instrumental": True}
    with pytest.raises(InputError) as caught:
        build(description="radios", model="FUZZ-9")
    assert caught.value.field == "model" and "FUZZ-1.0" in str(caught.value)


def test_studio_kind_follows_what_was_given() -> None:
    def kind(**options: Any) -> str:
        base: dict[str, Any] = {"style": "lofi", "lyrics": None, "instrumental": False}
        request = validate.build_studio(**(base | options))
        assert request.model_type == validate.STUDIO_MODEL  # the one the cost table prices
        return request.lyrics_type

    assert kind() == "generate"
    assert kind(lyrics="la") == "user"
    assert kind(instrumental=True) == "instrumental"
    error = refused(validate.build_studio, style="lofi", lyrics="la", instrumental=True)
    assert error.field == "instrumental"


def test_a_builders_own_value_error_becomes_an_input_error_under_the_option_name() -> None:
    # A rule only the request builder knows still reaches the member as a named refusal.
    with pytest.raises(InputError) as caught:
        checked(RiffusionCreate(custom_mode=False, prompt="p" * 201), {"prompt": "x"})
    assert caught.value.field == "x" and "200" in str(caught.value)


# -- operations ----------------------------------------------------------------------------


class GoneClient:
    """Answers every submit with 410, like a family retired upstream."""

    def __getattr__(self, name: str) -> Any:
        async def gone(*_args: Any) -> str:
            raise GoneError("Nuro has been retired. Use sonic ...", status=410, request_id="r1")

        return gone


async def test_operations_carry_cost_key_family_and_a_410_in_plain_words() -> None:
    vocal = validate.build_nuro_vocal(
        lyrics="la", duration=30, genre=None, mood=None, gender=None, timbre=None
    )
    producer = validate.build_producer_create(lyrics="la", sound=None, title=None, length=None)
    cases = [
        (family.nuro_vocal(vocal, "s"), "nuro", "nuro", "Nuro has been retired upstream"),
        (family.producer_create(producer, "s"), "producer_create", "producer", "/song create"),
        (family.producer_download("c1", "mp3", "s"), "producer_download", "producer", "download"),
        (
            family.riffusion_create(RiffusionCreate(custom_mode=False, prompt="p"), "s"),
            "riffusion", "riffusion", "Riffusion is no longer served",
        ),
    ]  # fmt: skip
    for operation, name, family_name, words in cases:
        assert (operation.name, operation.family) == (name, family_name)
        with pytest.raises(GoneError) as caught:
            await operation.send(GoneClient())  # type: ignore[arg-type]
        assert words in str(caught.value) and caught.value.status == 410
        assert caught.value.request_id == "r1"  # kept for support
    assert family.producer_download("c1", "wav", "s").body == {"clip_id": "c1", "format": "wav"}


# -- feature switches ----------------------------------------------------------------------


async def test_features_are_off_by_default_and_every_change_is_recorded(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "features.db")
    try:
        features = Features(db, clock=lambda: 1000.0)
        assert await features.states() == {"riffusion": False, "studio": False}
        with pytest.raises(FeatureOff) as caught:
            await features.require("riffusion")
        assert str(caught.value) == (
            "The bot owner has not turned on Riffusion (deprecated upstream)."
        )

        assert await features.set("riffusion", True, owner_id=7) is True
        assert await features.set("riffusion", True, owner_id=8) is False  # already on
        await features.require("riffusion")
        assert await features.states() == {"riffusion": True, "studio": False}
        assert await features.set("riffusion", False, owner_id=7) is True
        assert not await features.is_on("riffusion")

        history = await features.history("riffusion")
        assert [(c.enabled, c.user_id, c.changed_at) for c in history] == [
            (False, 7, 1000.0), (True, 8, 1000.0), (True, 7, 1000.0),
        ]  # fmt: skip
        with pytest.raises(ValueError, match="unknown feature"):
            await features.is_on("sonic")
    finally:
        await db.close()


def test_every_feature_says_why_it_is_off() -> None:
    assert {name: f.title for name, f in FEATURES.items()} == {
        "riffusion": "Riffusion (deprecated upstream)",
        "studio": "Studio (unavailable upstream)",
    }
