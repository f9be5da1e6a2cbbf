"""Permission checks in one style: predicates, put on commands as decorators and asked by
buttons and forms; no cog-wide checks and no acknowledgement written by hand in a cog."""

from __future__ import annotations

import ast
import contextlib
import importlib
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from bot.errors import NotAllowed
from bot.interactions.permissions import (
    MODERATORS_ONLY,
    OWNER_ONLY,
    is_moderator,
    is_requester_or_moderator,
    moderator_check,
    owner_check,
)
from cogs.owner import Owner
from cogs.quota import QuotaCog

COGS = Path(__file__).resolve().parents[2] / "cogs"
GUILD, MOD_ROLE, MEMBER, OWNER = 1, 2, 3, 4


class Bot:
    """What the checks read of the bot: the server's moderator role, and who owns the bot."""

    def __init__(self, mod_role_id: int | None) -> None:
        self.db = self
        self.quota = self
        self.mod_role_id = mod_role_id

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[None]:
        yield None

    async def settings(self, conn: None, guild_id: int) -> Any:
        return SimpleNamespace(mod_role_id=self.mod_role_id)

    async def is_owner(self, user: Any) -> bool:
        return bool(user.id == OWNER)


def interaction(
    user_id: int = MEMBER, *, manage_guild: bool = False, roles: tuple[int, ...] = (),
    mod_role_id: int | None = MOD_ROLE,
) -> Any:  # fmt: skip
    return SimpleNamespace(
        guild_id=GUILD,
        permissions=discord.Permissions(manage_guild=manage_guild),
        user=SimpleNamespace(id=user_id, roles=[SimpleNamespace(id=role) for role in roles]),
        client=Bot(mod_role_id),
    )


async def test_moderators_are_manage_server_or_the_moderator_role() -> None:
    assert await is_moderator(interaction(manage_guild=True))
    assert await is_moderator(interaction(roles=(MOD_ROLE,)))
    assert not await is_moderator(interaction(roles=(99,)))
    assert not await is_moderator(interaction(roles=(MOD_ROLE,), mod_role_id=None))
    assert await is_requester_or_moderator(interaction(), MEMBER)
    assert not await is_requester_or_moderator(interaction(), OWNER)


async def test_the_command_checks_refuse_with_the_texts_members_are_shown() -> None:
    assert await moderator_check(interaction(roles=(MOD_ROLE,)))
    with pytest.raises(NotAllowed, match=r"^Only moderators \(Manage Server"):
        await moderator_check(interaction())
    assert await owner_check(interaction(OWNER))
    with pytest.raises(NotAllowed) as refused:
        await owner_check(interaction(manage_guild=True))
    assert str(refused.value) == OWNER_ONLY == "Only the bot's owner can use this command."
    assert MODERATORS_ONLY.endswith("can do this.")


def commands_of(cog: type[commands.Cog]) -> list[app_commands.Command[Any, ..., Any]]:
    found = [v for v in vars(cog).values() if isinstance(v, app_commands.Command)]
    assert found, f"{cog.__name__} has no commands: the test is looking in the wrong place"
    return found


@pytest.mark.parametrize(("cog", "check"), [(QuotaCog, moderator_check), (Owner, owner_check)])
def test_every_privileged_command_carries_its_check(cog: type[commands.Cog], check: Any) -> None:
    missing = [c.name for c in commands_of(cog) if check not in c.checks]
    assert not missing, f"/{cog.__name__} commands without {check}: {missing}"


def test_no_cog_checks_its_commands_wholesale() -> None:
    # A check lives on each command (or in a button's predicate), not in a cog-wide hook.
    for path in sorted(COGS.glob("*.py")):
        module = importlib.import_module(f"cogs.{path.stem}")
        for cog in vars(module).values():
            if (
                isinstance(cog, type)
                and issubclass(cog, commands.Cog)
                and cog.__module__ == module.__name__
            ):
                for hook in ("interaction_check", "cog_check", "cog_app_command_check"):
                    assert hook not in vars(cog), f"{path.name}: {cog.__name__}.{hook}"


def test_no_cog_acknowledges_by_hand() -> None:
    # `extras=ACK_*` says how a command is acknowledged and the gate does it: a cog defers
    # nothing itself.
    deferring = [
        f"{path.name}:{node.lineno}"
        for path in sorted(COGS.glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute) and node.attr == "defer"
    ]
    assert not deferring, deferring
