"""The Dockerfile as Docker 20.10's classic builder reads it (Debian's and Ubuntu's docker.io,
docker-compose 1.29), and what the build context and the image's labels hold.

No Docker engine is needed: the file is parsed here the way the classic builder parses it, so a
BuildKit-only construct (a heredoc, RUN --mount, a `syntax` directive that makes BuildKit fetch
a frontend image) fails this test instead of an operator's build.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from bot import __version__

ROOT = Path(__file__).resolve().parents[2]

INSTRUCTIONS = {
    "FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
    "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL", "MAINTAINER",
}  # fmt: skip
# The flags the classic builder of Docker 20.10 knows, per instruction; any other (RUN --mount,
# --network, --security, COPY --chmod, --link, ADD --checksum) needs BuildKit.
CLASSIC_FLAGS = {
    "FROM": {"platform"},
    "COPY": {"from", "chown"},
    "ADD": {"chown"},
    "HEALTHCHECK": {"interval", "timeout", "start-period", "retries"},
}
HEREDOC = re.compile(r"<<-?\s*['\"]?[A-Za-z_][A-Za-z0-9_]*")
DIRECTIVE = re.compile(r"#\s*([A-Za-z]+)\s*=")


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per logical line, continuations joined and comments dropped,
    as the classic builder sees them: a heredoc's body lines come out as instructions too."""
    result: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):  # comments inside a continuation are dropped
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical, pending = pending + line, ""
        keyword, _, arguments = logical.partition(" ")
        result.append((keyword.upper(), arguments.strip()))
    assert not pending, "the Dockerfile ends in a line continuation"
    return result


def leading_flags(arguments: str) -> list[str]:
    """The instruction's own flags (`RUN --mount=...`), not those of the command it runs."""
    flags: list[str] = []
    for token in arguments.split():
        if not token.startswith("--"):
            break
        flags.append(token[2:].split("=", 1)[0])
    return flags


def classic_builder_problems(text: str) -> list[str]:
    problems: list[str] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        match = DIRECTIVE.match(line.strip())
        if match is None:
            break  # parser directives only count before the first other line
        if match.group(1).lower() == "syntax":
            problems.append(f"syntax directive ({line.strip()}): BuildKit fetches a frontend")
    for keyword, arguments in instructions(text):
        if keyword not in INSTRUCTIONS:
            problems.append(f"unknown instruction: {keyword}")
            continue
        if keyword in {"RUN", "COPY", "ADD"} and HEREDOC.search(arguments):
            problems.append(f"heredoc in {keyword}: {arguments[:40]}")
        for flag in leading_flags(arguments):
            if flag not in CLASSIC_FLAGS.get(keyword, set()):
                problems.append(f"{keyword} --{flag} needs BuildKit")
    return problems


def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def test_the_classic_builder_reads_the_dockerfile() -> None:
    assert classic_builder_problems(dockerfile()) == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("# syntax=docker/dockerfile:1\nFROM python:3.11.14-slim-bookworm\n", "syntax directive"),
        (
            "FROM python\nRUN python - <<'PY'\nimport os\nprint(os.name)\nPY\n",
            "unknown instruction: IMPORT",
        ),
        ("FROM python\nRUN python - <<PY > /tmp/x\nPY\n", "heredoc in RUN"),
        ("FROM python\nRUN --mount=type=cache,target=/root/.cache pip install x\n", "--mount"),
        ("FROM python\nCOPY --chmod=0755 run.sh /usr/local/bin/\n", "COPY --chmod"),
    ],
)
def test_buildkit_only_constructs_are_caught(text: str, problem: str) -> None:
    assert any(problem in found for found in classic_builder_problems(text))


def test_flags_of_commands_inside_run_are_not_mistaken_for_run_flags() -> None:
    text = "FROM python\nRUN pip install --require-hashes -r x \\\n    && apt-get -y --no-x y\n"
    assert classic_builder_problems(text) == []


def labels() -> dict[str, str]:
    found: dict[str, str] = {}
    for keyword, arguments in instructions(dockerfile()):
        if keyword == "LABEL":
            found.update(re.findall(r'([a-z.]+)="([^"]*)"', arguments))
    return found


def test_oci_labels_follow_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    found = labels()
    assert found["org.opencontainers.image.version"] == project["version"] == __version__
    assert found["org.opencontainers.image.licenses"] == project["license"]
    assert "org.opencontainers.image.source" in found
    assert found["org.opencontainers.image.title"] == project["name"]


def test_the_images_musicbot_command_is_pyprojects_console_script() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    module, _, name = project["scripts"]["musicbot"].partition(":")
    runs = " ".join(
        arguments for keyword, arguments in instructions(dockerfile()) if keyword == "RUN"
    )
    assert f"from {module} import {name}" in runs and "/usr/local/bin/musicbot" in runs


def ignored(path: str, patterns: list[str]) -> bool:
    """Docker's .dockerignore rule: the last pattern matching the path or one of its parent
    directories decides, and `!` takes a path back in."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    verdict = False
    for pattern in patterns:
        keep = pattern.startswith("!")
        body = pattern.removeprefix("!").strip("/")
        regex = "".join(
            ".*" if token == "**" else "[^/]*" if token == "*" else "[^/]" if token == "?"
            else re.escape(token)
            for token in re.split(r"(\*\*|\*|\?)", body)
        )  # fmt: skip
        regex = regex.replace(".*/", "(.*/)?")
        if any(re.fullmatch(regex, prefix) for prefix in prefixes):
            verdict = not keep
    return verdict


def dockerignore() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize(
    "path",
    [
        ".env", ".env.local", ".env.production", ".venv/bin/python", ".venv-3.13/bin/python",
        ".git/HEAD", "tests/conftest.py", "bench/common.py", "musicbot.egg-info/PKG-INFO",
        ".ci/run", "data/musicbot.db", "bot/__pycache__/app.cpython-311.pyc",
        "cogs/__pycache__/song.cpython-313.pyc", ".mypy_cache/3.11/x.json",
        ".pytest_cache/v/cache/lastfailed", ".ruff_cache/x", ".hypothesis/examples/x",
        "build/lib/bot/app.py", "pyproject.toml", "docker-compose.yml", "musicbot.db",
    ],
)  # fmt: skip
def test_the_build_context_leaves_out_secrets_environments_and_caches(path: str) -> None:
    assert ignored(path, dockerignore())


def test_everything_the_dockerfile_copies_is_in_the_build_context() -> None:
    patterns = dockerignore()
    sources = [
        arguments.split()[0]
        for keyword, arguments in instructions(dockerfile())
        if keyword in {"COPY", "ADD"}
    ]
    assert sources, "the Dockerfile copies nothing"
    for source in sources:
        assert (ROOT / source).exists(), source
        assert not ignored(source, patterns), source
    for path in ROOT.joinpath("bot").rglob("*"):
        relative = path.relative_to(ROOT).as_posix()
        if path.is_file() and "__pycache__" not in relative:
            assert not ignored(relative, patterns), relative  # migrations' .sql included
