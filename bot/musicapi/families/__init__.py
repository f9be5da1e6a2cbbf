"""The MusicAPI families, one module each, and the one registry everything looks them up in.

``get(Family.PRODUCER)`` is the family's ``FamilySpec`` (poll path, create routes, result and
webhook parsers). The client polls through it, the webhook receiver reads bodies with it and
the scheduler names the families it can poll from it; nothing else keeps a per-family table.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from bot.states import Family

from . import nuro, producer, riffusion, sonic, studio
from .spec import FamilySpec

__all__ = ["REGISTRY", "FamilySpec", "find", "get", "names"]

# Family.SYNC is not here: a sync call is answered at once and has no task to poll.
REGISTRY: Mapping[Family, FamilySpec] = MappingProxyType(
    {module.SPEC.family: module.SPEC for module in (sonic, producer, nuro, riffusion, studio)}
)


def names() -> tuple[str, ...]:
    """The families whose tasks can be polled, as stored next to a task id."""
    return tuple(REGISTRY)


def find(family: Family | str) -> FamilySpec | None:
    """The family's spec, or None for a name that is not a polled family."""
    try:
        return REGISTRY.get(Family(family))
    except ValueError:
        return None


def get(family: Family | str) -> FamilySpec:
    """The family's spec. Raises ``ValueError`` for an unknown family: a job stored with a bad
    family is a bug to surface, not a task to give up on."""
    spec = find(family)
    if spec is None:
        raise ValueError(f"family must be one of {', '.join(names())}; got {family!r}")
    return spec
