"""requirements.lock, which the Docker image installs, against pyproject.toml: every runtime
dependency (and the `postgres` extra the image carries) pinned exactly, inside its range, with
hashes, and made by the command the README gives. A range changed in pyproject.toml without a
new lock fails here, not in an image that quietly runs something else."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements.lock"
# The extras the image installs besides the runtime dependencies.
IMAGE_EXTRAS = ("postgres",)


def pins() -> dict[str, tuple[str, list[str]]]:
    """name → (version, hashes) from a pip-compile --generate-hashes file."""
    text = LOCK.read_text().replace("\\\n", " ")
    found: dict[str, tuple[str, list[str]]] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = re.match(r"([A-Za-z0-9_.\-]+)==([^\s;]+)", line.strip())
        assert match, f"not an exact pin: {line.strip()[:60]}"
        hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", line)
        found[canonicalize_name(match.group(1))] = (match.group(2), hashes)
    return found


def image_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    for extra in IMAGE_EXTRAS:
        wanted += project["optional-dependencies"][extra]
    return [Requirement(line) for line in wanted]


def test_every_pin_is_exact_and_hashed() -> None:
    locked = pins()
    assert len(locked) >= len(image_requirements())
    for name, (_version, hashes) in locked.items():
        assert hashes, f"{name} has no --hash"


def test_every_runtime_dependency_is_pinned_within_its_range() -> None:
    locked = pins()
    for requirement in image_requirements():
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{requirement} is not in requirements.lock"
        version = locked[name][0]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"requirements.lock pins {name}=={version}, outside pyproject.toml's {requirement}"
        )


def test_the_lock_says_how_it_was_made_and_the_readme_gives_that_command() -> None:
    header = re.search(r"^#\s+(pip-compile .+)$", LOCK.read_text(), re.MULTILINE)
    assert header, "requirements.lock has no pip-compile command in its header"
    command = header.group(1).strip()
    assert "--generate-hashes" in command and "pyproject.toml" in command
    for extra in IMAGE_EXTRAS:
        assert f"--extra={extra}" in command
    assert command in (ROOT / "README.md").read_text()
