"""The one registry of MusicAPI families: every polled family has one spec, looked up by name."""

from __future__ import annotations

import pytest

from bot.musicapi import families
from bot.musicapi.families.producer import producer_status
from bot.musicapi.models import TaskStatus
from bot.states import Family


def test_every_polled_family_has_one_spec() -> None:
    assert set(families.names()) == set(Family) - {Family.SYNC}
    for family, spec in families.REGISTRY.items():
        assert spec.family == family
        assert spec.poll_path == f"/{family}/task"
        assert all(path.startswith(f"/{family}/") for path in spec.create_paths)


def test_lookup_by_stored_text_or_enum() -> None:
    assert families.get("producer") is families.get(Family.PRODUCER)
    assert families.get(Family.PRODUCER).parse_result is producer_status
    assert families.get(Family.SONIC).parse_webhook == TaskStatus.from_poll


def test_unknown_family_is_refused() -> None:
    assert families.find("sync") is None and families.find("nope") is None
    with pytest.raises(ValueError, match="family must be one of"):
        families.get("nope")


def test_only_the_retired_families_are_marked_retired() -> None:
    retired = {spec.family for spec in families.REGISTRY.values() if spec.retired}
    assert retired == {Family.RIFFUSION, Family.STUDIO}
