"""Load the MusicAPI example payloads: real request and response bodies from the API's docs,
kept in ``tests/fixtures/musicapi`` so the tests need nothing outside the repository."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "fixtures/musicapi"


def load_example(name: str) -> dict[str, Any]:
    """The whole example file (keys: endpoint, direction, http_status, body, ...)."""
    filename = name if name.endswith(".json") else f"{name}.json"
    with (EXAMPLES_DIR / filename).open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def example_names(pattern: str) -> list[str]:
    """Names (without .json) of the example files matching a glob, sorted."""
    names = sorted(path.stem for path in EXAMPLES_DIR.glob(pattern))
    # An empty match would silently parametrize a test away; fail loudly instead.
    assert names, f"no example matches {pattern!r} in {EXAMPLES_DIR}"
    return names
