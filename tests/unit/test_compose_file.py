"""docker-compose.yml as an operator runs it: `docker compose up -d` starts the single bot,
`--profile scale up -d` only PostgreSQL and the shards, one named image, nothing of .env
silently replaced for the single bot, and no password in the file."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def services() -> dict[str, str]:
    """Each service's block of text, by name (the file's two-space layout)."""
    text = (ROOT / "docker-compose.yml").read_text()
    body = text.split("\nservices:\n", 1)[1].split("\nvolumes:\n", 1)[0]
    blocks: dict[str, str] = {}
    name = None
    for line in body.splitlines():
        match = re.match(r"^  ([a-z0-9-]+):\s*$", line)
        if match:
            name = match.group(1)
            blocks[name] = ""
        elif name is not None and not line.lstrip().startswith("#"):
            blocks[name] += line + "\n"
    return blocks


def profiles(block: str) -> list[str]:
    match = re.search(r"^    profiles: \[([^\]]*)\]", block, re.MULTILINE)
    return [p.strip() for p in match.group(1).split(",")] if match else []


def env_example() -> dict[str, str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if re.match(r"^[A-Z_]+=", line)]
    return {key: value for key, value in pairs}


def test_every_service_is_in_a_profile_so_scale_cannot_start_the_single_bot() -> None:
    found = services()
    assert profiles(found["musicbot"]) == ["single"]
    for name in ("postgres", "musicbot-shard0", "musicbot-shard1"):
        assert profiles(found[name]) == ["scale"], name
    # A service without a profile would start under --profile scale too.
    assert all(profiles(block) for block in found.values())
    # .env turns the single bot on for a plain `docker compose up -d`.
    assert env_example()["COMPOSE_PROFILES"] == "single"


def test_the_bot_services_share_one_named_image() -> None:
    built = [block for block in services().values() if "build:" in block]
    assert len(built) == 3
    images = {re.findall(r"^    image: (\S+)", block, re.MULTILINE)[0] for block in built}
    assert images == {"musicbot:latest"}


def test_postgres_is_pinned_to_a_patch_release_and_its_password_comes_from_env() -> None:
    found = services()
    assert re.search(r"^    image: postgres:\d+\.\d+(-\w+)?$", found["postgres"], re.MULTILINE)
    assert "POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}" in found["postgres"]
    for name in ("musicbot-shard0", "musicbot-shard1"):
        url = re.search(r"DATABASE_URL: (\S+)", found[name])
        assert (
            url
            and url.group(1) == "postgresql://musicbot:${POSTGRES_PASSWORD}@postgres:5432/musicbot"
        )
    assert "POSTGRES_PASSWORD" in env_example()  # set (empty) there, so compose has it


def test_the_single_bot_takes_its_settings_from_env_unchanged() -> None:
    block = services()["musicbot"]
    assert "env_file: .env" in block
    assert "environment:" not in block  # nothing set in .env is replaced behind its back
