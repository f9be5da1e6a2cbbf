"""The dependency ranges exclude releases with published security advisories, and stay
compatible ranges (a floor and the next major, or minor for discord.py, as the ceiling)."""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]

# The first release past the newest advisory known for each (see the comments in pyproject).
FIXED_IN = {
    "aiohttp": "3.14.3",
    "pillow": "12.3.0",
    "python-dotenv": "1.2.2",
}
# Releases the old floors allowed that carry advisories.
VULNERABLE = {
    "aiohttp": ["3.10.0", "3.12.13", "3.13.3", "3.14.2"],
    "pillow": ["10.1.0", "11.3.0", "12.2.0"],
    "python-dotenv": ["1.0.0", "1.2.1"],
}


def requirements() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    found = [Requirement(line) for line in project["dependencies"]]
    for extra in project["optional-dependencies"].values():
        found += [Requirement(line) for line in extra]
    return {req.name.lower(): req for req in found}


@pytest.mark.parametrize("name", sorted(FIXED_IN))
def test_no_release_with_a_known_advisory_is_allowed(name: str) -> None:
    spec = requirements()[name].specifier
    assert Version(FIXED_IN[name]) in spec
    assert not [v for v in VULNERABLE[name] if Version(v) in spec]
    # What the tests run against is inside the range too.
    assert Version(version(name)) in spec


def test_every_range_has_a_floor_and_a_ceiling() -> None:
    for name, req in requirements().items():
        operators = {spec.operator for spec in req.specifier}
        if name in ("ruff", "mypy"):  # tools, not imported by the bot
            continue
        assert ">=" in operators and "<" in operators, name
