import pytest

from bot.errors import InputError
from bot.store.clips import StoredClip
from bot.validation.attachments import check_lyrics_file, decode_lyrics_file
from bot.validation.choices import model as check_model
from bot.validation.sonic import build_create, build_custom, check_custom_options
from tests.helpers import stored_clip

MODELS = ("sonic-v3-5", "sonic-v4", "sonic-v4-5", "sonic-v5")


def create(**overrides: object) -> object:
    options: dict[str, object] = {
        "description": "a song about rain",
        "style": None,
        "title": None,
        "instrumental": False,
        "model": "sonic-v5",
        "vocal": None,
        "negative": None,
    }
    options.update(overrides)
    return build_create(**options)


def test_create_builds_the_documented_body() -> None:
    body = create(style="lofi", title="Rain", vocal="f").to_body()  # type: ignore[attr-defined]
    assert body["task_type"] == "create_music"
    assert body["custom_mode"] is False
    assert body["gpt_description_prompt"] == "a song about rain"
    assert body["tags"] == "lofi" and body["title"] == "Rain" and body["vocal_gender"] == "f"
    assert body["mv"] == "sonic-v5"


@pytest.mark.parametrize(
    ("overrides", "field", "limit"),
    [
        ({"description": "x" * 401}, "description", "400"),
        ({"description": "x" * 200, "model": "sonic-v4"}, "description", "199"),
        ({"title": "t" * 80}, "title", "79"),
        ({"style": "s" * 1001}, "style", "1000"),
        ({"style": "s" * 200, "model": "sonic-v3-5"}, "style", "199"),
        ({"negative": "n" * 1001}, "negative", "1000"),
    ],
)
def test_lengths_per_model_name_field_and_limit(
    overrides: dict[str, object], field: str, limit: str
) -> None:
    with pytest.raises(InputError) as caught:
        create(**overrides)
    assert caught.value.field == field
    assert limit in str(caught.value)


def test_empty_description_is_refused() -> None:
    with pytest.raises(InputError) as caught:
        create(description="   ")
    assert caught.value.field == "description"


def test_vocal_needs_a_newer_model_and_vocals() -> None:
    with pytest.raises(InputError, match="sonic-v4-5"):
        create(model="sonic-v4", vocal="m")
    with pytest.raises(InputError, match="instrumental"):
        create(instrumental=True, vocal="m")


def test_custom_lyrics_limits_per_model() -> None:
    ok = build_custom(
        lyrics="l" * 5000, style=None, title=None, instrumental=False, model="sonic-v5", vocal=None
    )
    assert ok.prompt == "l" * 5000 and ok.custom_mode is True
    with pytest.raises(InputError, match="2999"):
        build_custom(
            lyrics="l" * 3000,
            style=None,
            title=None,
            instrumental=False,
            model="sonic-v4",
            vocal=None,
        )
    with pytest.raises(InputError) as caught:
        build_custom(
            lyrics=" ", style=None, title=None, instrumental=False, model="sonic-v5", vocal=None
        )
    assert caught.value.field == "lyrics"


def test_custom_options_checked_before_the_form() -> None:
    check_custom_options(style="pop", title="T", instrumental=False, model="sonic-v5", vocal="f")
    with pytest.raises(InputError) as caught:
        check_custom_options(
            style=None, title="x" * 90, instrumental=False, model="sonic-v5", vocal=None
        )
    assert caught.value.field == "title"


def test_model_must_be_offered() -> None:
    assert check_model(None, MODELS, "sonic-v5") == "sonic-v5"
    with pytest.raises(InputError) as caught:
        check_model("gpt-music", MODELS, "sonic-v5")
    assert caught.value.field == "model"


def test_lyrics_file_type_size_and_encoding() -> None:
    check_lyrics_file("song.txt", "text/plain; charset=utf-8", 100)
    with pytest.raises(InputError, match=r"\.txt"):
        check_lyrics_file("song.mp3", "audio/mpeg", 100)
    with pytest.raises(InputError, match="64 KiB"):
        check_lyrics_file("song.txt", "text/plain", 65 * 1024)
    assert decode_lyrics_file("\ufeff[Verse]\r\nhi".encode()) == "[Verse]\nhi"
    with pytest.raises(InputError, match="UTF-8"):
        decode_lyrics_file(b"\xff\xfe\xfa")


def _clip(source: str = "generated", duration: float | None = 120.0) -> StoredClip:
    return stored_clip(clip_id="c-1", title="T", tags="pop", source=source, duration=duration)


def test_uploaded_clips_take_the_upload_task_types() -> None:
    from bot.validation.sonic import build_cover, build_extend

    up = _clip("upload")
    assert build_extend(up, at=0.1, lyrics=None, style=None, model="sonic-v5").task_type == (
        "extend_upload_music"
    )
    assert build_cover(
        up, style=None, lyrics=None, model="sonic-v5", audio_weight=None
    ).task_type == ("cover_upload_music")
    ours = _clip()
    assert build_extend(ours, at=30, lyrics="[Verse] new", style=None, model="sonic-v5").prompt == (
        "[Verse] new"
    )


def test_extend_within_the_song_and_remaster_age() -> None:
    from bot.validation.sonic import build_extend, build_remaster

    with pytest.raises(InputError, match="120"):
        build_extend(_clip(), at=120, lyrics=None, style=None, model="sonic-v5")
    with pytest.raises(InputError, match="24 hours"):
        build_remaster(_clip(), variation=None, model="sonic-v5", now=25 * 3600)
    with pytest.raises(InputError) as caught:
        build_remaster(_clip(), variation="wild", model="sonic-v5", now=60)
    assert caught.value.field == "variation"
