"""The client's tables and the simulator's are two independent readings of
docs/musicapi/protocol.md; where they are meant to say the same thing, they must agree, or one of
them misread it."""

from __future__ import annotations

import pytest

from bot.config import DEFAULT_MODELS
from bot.musicapi import families as client_families
from bot.musicapi.families import nuro as client_nuro
from bot.musicapi.families import producer as client_producer
from bot.musicapi.families import riffusion as client_riffusion
from bot.musicapi.families import sonic as client_sonic
from bot.musicapi.families import studio as client_studio
from bot.quota.costs import DEFAULT_COSTS
from bot.simulator import protocol as sim_protocol
from bot.simulator import rules as sim_rules
from bot.simulator import tables as sim
from bot.simulator.core import API
from bot.simulator.server import MusicAPISimulator
from bot.validation import families as family_validation
from bot.validation.sonic import TITLE_MAX, limits_for


def test_sonic_task_types_and_required_fields() -> None:
    assert set(client_sonic.SONIC_TASK_TYPES) == set(sim.SONIC_TASK_TYPES)
    assert {k: set(v) for k, v in client_sonic.REQUIRED_FIELDS.items()} == {
        k: set(v) for k, v in sim.SONIC_REQUIRED.items()
    }
    # The client checks the booleans it may send; the server checks every documented one.
    assert set(client_sonic.BOOLEAN_FIELDS) <= set(sim.SONIC_BOOLEANS)


def test_family_enums() -> None:
    pairs = [
        (client_riffusion.RIFFUSION_TASK_TYPES, sim.RIFFUSION_TASK_TYPES),
        (client_riffusion.RIFFUSION_MODELS, sim.RIFFUSION_MODELS),
        (client_studio.STUDIO_LYRICS_TYPES, sim.STUDIO_LYRICS_TYPES),
        (client_studio.STUDIO_MODEL_TYPES, sim.STUDIO_MODEL_TYPES),
        (client_studio.STUDIO_CONFIG_MODES, sim.STUDIO_MODES),
        (client_producer.PRODUCER_TASK_TYPES, sim.PRODUCER_TASK_TYPES),
        (client_producer.RETIRED_PRODUCER_TASK_TYPES, sim.PRODUCER_RETIRED_TASK_TYPES),
        (client_nuro.NURO_GENDERS, sim.NURO_GENDERS),
        (client_nuro.NURO_VOCAL_GENRES, sim.NURO_VOCAL_GENRES),
        (client_nuro.NURO_VOCAL_MOODS, sim.NURO_VOCAL_MOODS),
        (client_nuro.NURO_TIMBRES, sim.NURO_TIMBRES),
        (client_nuro.NURO_BGM_GENRES, sim.NURO_BGM_GENRES),
        (client_nuro.NURO_BGM_MOODS, sim.NURO_BGM_MOODS),
        (client_nuro.NURO_BGM_INSTRUMENTS, sim.NURO_BGM_INSTRUMENTS),
        (client_nuro.NURO_BGM_THEMES, sim.NURO_BGM_THEMES),
        (client_nuro.NURO_SEGMENT_NAMES, sim.NURO_SEGMENT_NAMES),
    ]
    for client_table, sim_table in pairs:
        assert set(client_table) == set(sim_table)


def test_every_model_the_bot_offers_is_accepted() -> None:
    assert set(DEFAULT_MODELS) <= set(sim_protocol.ACCEPTED_MODELS)


@pytest.mark.parametrize("model", DEFAULT_MODELS)
def test_the_bot_s_length_limits_fit_the_server_s(model: str) -> None:
    """Text at the bot's own maximum is accepted by the simulator (it would otherwise be
    refused upstream after the member was charged)."""
    limits = limits_for(model)
    at_limit = {
        "task_type": "create_music",
        "custom_mode": True,
        "mv": model,
        "prompt": "l" * limits.lyrics,
        "tags": "t" * limits.style,
        "title": "n" * TITLE_MAX,
    }
    assert sim_protocol.validate_create(at_limit) is None
    described = {
        "custom_mode": False,
        "mv": model,
        "gpt_description_prompt": "d" * limits.description,
    }
    assert sim_protocol.validate_create(described) is None


def _upstream_charge(operation: str) -> float:
    """What the simulator bills for the bot's cost-table operation."""
    tasks, endpoints = sim_protocol.TASK_COSTS, sim_protocol.ENDPOINT_COSTS
    if operation in tasks:
        return tasks[operation]
    if operation in ("upload_extend", "upload_cover"):  # upload, then the edit task (§1)
        edit = "extend_upload_music" if operation == "upload_extend" else "cover_upload_music"
        return endpoints["upload"] + tasks[edit]
    if operation == "producer_create":
        return endpoints["producer_create_music"]
    if operation == "lyrics":
        return 0  # billed in a separate pool of lyrics credits (§3.17), not account credits
    return endpoints[operation]  # KeyError: an operation the simulator does not know


def test_the_bot_never_reserves_less_than_upstream_bills() -> None:
    """The prices are an open question (docs/musicapi/open-questions.md D.19): the bot reserves the
    newest figure (2026-10 third party), the simulator bills the site/docs column. Either way a
    server's budget must cover what the owner's account is charged."""
    short = {
        op: (cost, _upstream_charge(op))
        for op, cost in DEFAULT_COSTS.items()
        if cost < _upstream_charge(op)
    }
    assert short == {}


def test_the_bot_s_family_maxima_fit_the_server_s() -> None:
    """Producer, Nuro and Riffusion text and numbers at the bot's own maxima pass the
    simulator's checks: the two readings of §6, §7 and §9 agree on the edges."""
    producer = {
        "task_type": "create_music",
        "sound": "s",
        "title": "t" * family_validation.PRODUCER_TITLE_MAX,
        "length": client_producer.MAX_PRODUCER_LENGTH_S,
    }
    assert sim_rules.validate_producer(producer) is None
    vocal = {
        "type": "vocal",
        "lyrics": "l" * client_nuro.MAX_LYRICS,
        "gender": client_nuro.NURO_GENDERS[0],
        "genre": client_nuro.NURO_VOCAL_GENRES[0],
        "mood": client_nuro.NURO_VOCAL_MOODS[0],
        "timbre": client_nuro.NURO_TIMBRES[0],
    }
    for seconds in client_nuro.VOCAL_DURATION_S:  # both ends of the range
        assert sim_rules.validate_nuro({**vocal, "duration": seconds}, True) is None
    tags = client_nuro.MAX_BGM_TAGS
    bgm = {
        "type": "bgm",
        "description": "d",
        "genre": list(client_nuro.NURO_BGM_GENRES[:tags]),
        "mood": list(client_nuro.NURO_BGM_MOODS[:tags]),
        "instrument": list(client_nuro.NURO_BGM_INSTRUMENTS[:tags]),
    }
    for seconds in client_nuro.BGM_DURATION_S:
        assert sim_rules.validate_nuro({**bgm, "duration": seconds}, True) is None
    riffusion = {
        "task_type": "create_music",
        "custom_mode": True,
        "lyrics": "l" * family_validation.RIFFUSION_LYRICS_MAX,
        "sound": "s" * family_validation.RIFFUSION_PROMPT_MAX,
        "mv": client_riffusion.RIFFUSION_MODELS[0],
    }
    assert sim_rules.validate_riffusion(riffusion) is None
    described = {
        "task_type": "create_music",
        "custom_mode": False,
        "prompt": "p" * family_validation.RIFFUSION_PROMPT_MAX,
    }
    assert sim_rules.validate_riffusion(described) is None


def test_the_simulator_serves_every_route_the_client_s_families_declare() -> None:
    """The client's family registry and the simulator's route table are read apart; every
    poll and create route a family declares must be one the simulator answers."""
    served = {(method, path) for method, path, _ in MusicAPISimulator().routes}
    for spec in client_families.REGISTRY.values():
        assert ("GET", f"{API}{spec.poll_path}/{{task_id}}") in served
        for path in spec.create_paths:
            assert ("POST", f"{API}{path}") in served
