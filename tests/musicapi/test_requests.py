"""SonicCreate: per-task-type required fields and round-trips of the documented bodies."""

from __future__ import annotations

from typing import Any

import pytest

from bot.musicapi.families.sonic import SONIC_TASK_TYPES, SonicCreate

from .fixtures import example_names, load_example

# A minimal valid set of fields for each task type (docs/musicapi/protocol.md §3.1 "Required
# fields").
MINIMAL: dict[str, dict[str, Any]] = {
    "create_music": {"custom_mode": False, "mv": "sonic-v5", "gpt_description_prompt": "a song"},
    "extend_music": {
        "continue_clip_id": "c1",
        "continue_at": 30,
        "custom_mode": True,
        "mv": "sonic-v5",
    },
    "cover_music": {"continue_clip_id": "c1", "custom_mode": True, "mv": "sonic-v5"},
    "concat_music": {"continue_clip_id": "c1"},
    "persona_music": {"persona_id": "p1", "custom_mode": True, "mv": "sonic-v5"},
    "extend_upload_music": {
        "continue_clip_id": "c1",
        "continue_at": 0.1,
        "custom_mode": True,
        "mv": "sonic-v5",
    },
    "cover_upload_music": {"continue_clip_id": "c1", "custom_mode": True, "mv": "sonic-v5"},
    "remaster": {"continue_clip_id": "c1", "mv": "sonic-v5"},
    "add_vocals": {
        "continue_clip_id": "c1",
        "prompt": "[Verse] la",
        "mv": "sonic-v5",
        "overpainting_start_s": 0,
        "overpainting_end_s": 30,
    },
    "add_instrumental": {
        "continue_clip_id": "c1",
        "mv": "sonic-v5",
        "overpainting_start_s": 0,
        "overpainting_end_s": 30,
    },
}

# What must be present, independent of the implementation's table.
REQUIRED: dict[str, set[str]] = {
    "create_music": {"custom_mode", "mv", "gpt_description_prompt"},
    "extend_music": {"continue_clip_id", "continue_at", "custom_mode", "mv"},
    "cover_music": {"continue_clip_id", "custom_mode", "mv"},
    "concat_music": {"continue_clip_id"},
    "persona_music": {"persona_id", "custom_mode", "mv"},
    "extend_upload_music": {"continue_clip_id", "continue_at", "custom_mode", "mv"},
    "cover_upload_music": {"continue_clip_id", "custom_mode", "mv"},
    "remaster": {"continue_clip_id", "mv"},
    "add_vocals": {
        "continue_clip_id",
        "prompt",
        "mv",
        "overpainting_start_s",
        "overpainting_end_s",
    },
    "add_instrumental": {"continue_clip_id", "mv", "overpainting_start_s", "overpainting_end_s"},
}


def test_the_ten_task_types() -> None:
    assert len(SONIC_TASK_TYPES) == 10
    assert set(SONIC_TASK_TYPES) == set(MINIMAL)


@pytest.mark.parametrize("task_type", sorted(MINIMAL))
def test_minimal_body_is_accepted(task_type: str) -> None:
    body = SonicCreate(task_type=task_type, **MINIMAL[task_type]).to_body()
    assert body == {"task_type": task_type, **MINIMAL[task_type]}


@pytest.mark.parametrize(
    ("task_type", "missing"),
    [(t, f) for t in sorted(REQUIRED) for f in sorted(REQUIRED[t])],
)
def test_each_required_field_is_enforced(task_type: str, missing: str) -> None:
    fields = {k: v for k, v in MINIMAL[task_type].items() if k != missing}
    with pytest.raises(ValueError, match=missing):
        SonicCreate(task_type=task_type, **fields).to_body()


@pytest.mark.parametrize("task_type", sorted(REQUIRED))
def test_blank_strings_count_as_missing(task_type: str) -> None:
    fields = dict(MINIMAL[task_type], continue_clip_id="  ", persona_id="", mv=" ")
    with pytest.raises(ValueError):
        SonicCreate(task_type=task_type, **fields).to_body()


def test_custom_mode_needs_lyrics_unless_instrumental() -> None:
    with pytest.raises(ValueError, match="prompt"):
        SonicCreate(custom_mode=True, mv="sonic-v5", title="t").to_body()
    body = SonicCreate(custom_mode=True, mv="sonic-v5", make_instrumental=True, tags="lofi")
    assert body.to_body()["make_instrumental"] is True


def test_booleans_are_type_checked() -> None:
    with pytest.raises(ValueError, match="custom_mode"):
        SonicCreate(custom_mode="false", mv="sonic-v5", prompt="x").to_body()  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="make_instrumental"):
        SonicCreate(
            custom_mode=False,
            mv="sonic-v5",
            gpt_description_prompt="x",
            make_instrumental=1,  # type: ignore[arg-type]
        ).to_body()


def test_unknown_task_type() -> None:
    with pytest.raises(ValueError, match="task_type"):
        SonicCreate(task_type="music_variation", continue_clip_id="c").to_body()


def test_unset_fields_are_omitted() -> None:
    body = SonicCreate(**MINIMAL["create_music"]).to_body()
    assert set(body) == {"task_type", "custom_mode", "mv", "gpt_description_prompt"}
    assert None not in body.values()


def test_false_and_zero_are_kept() -> None:
    body = SonicCreate(
        custom_mode=False,
        mv="sonic-v5",
        gpt_description_prompt="x",
        make_instrumental=False,
        style_weight=0.0,
    ).to_body()
    assert body["make_instrumental"] is False
    assert body["style_weight"] == 0.0


def test_webhook_secret_is_not_in_repr() -> None:
    req = SonicCreate(**MINIMAL["create_music"], webhook_url="https://x", webhook_secret="hush-123")
    assert "hush-123" not in repr(req)
    assert req.to_body()["webhook_secret"] == "hush-123"


CREATE_EXAMPLES = example_names("sonic-create-request-*.json")


def test_all_create_examples_are_found() -> None:
    assert len(CREATE_EXAMPLES) >= 16


@pytest.mark.parametrize("name", CREATE_EXAMPLES)
def test_documented_bodies_round_trip(name: str) -> None:
    body = load_example(name)["body"]
    built = SonicCreate(**body).to_body()
    # task_type is always sent explicitly; the docs omit it for the create_music default.
    assert built == {"task_type": "create_music", **body}
