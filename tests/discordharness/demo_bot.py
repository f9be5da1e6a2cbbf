"""A tiny real discord.py bot used to exercise the fake Discord."""

from __future__ import annotations

import asyncio
import hashlib
import io
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands


class DemoModal(discord.ui.Modal, title="Demo form"):
    # One classic (action-row) text input and one wrapped in a 2.7 Label component.
    name = discord.ui.TextInput(label="Name", custom_id="demo-name")
    notes = discord.ui.Label(
        text="Notes",
        component=discord.ui.TextInput(
            custom_id="demo-notes", style=discord.TextStyle.paragraph, required=False
        ),
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        assert isinstance(self.notes.component, discord.ui.TextInput)
        await interaction.response.send_message(
            f"hello {self.name.value}; notes={self.notes.component.value!r}", ephemeral=True
        )


class CounterButton(discord.ui.DynamicItem[discord.ui.Button], template=r"demo:(?P<n>[0-9]+)"):
    def __init__(self, n: int) -> None:
        super().__init__(
            discord.ui.Button(
                label=f"Count {n}", style=discord.ButtonStyle.primary, custom_id=f"demo:{n}"
            )
        )
        self.n = n

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: Any, /
    ) -> CounterButton:
        return cls(int(match["n"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        view = discord.ui.View(timeout=None)
        view.add_item(CounterButton(self.n + 1))
        await interaction.response.edit_message(content=f"count={self.n + 1}", view=view)


FRUITS = ["apple", "apricot", "banana", "cherry"]


class MenuView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=30)

    @discord.ui.select(
        custom_id="demo-menu",
        options=[
            discord.SelectOption(label="Alpha", value="a"),
            discord.SelectOption(label="Beta", value="b"),
        ],
    )
    async def chosen(self, interaction: discord.Interaction, select: discord.ui.Select) -> None:
        await interaction.response.defer()
        await interaction.followup.send(f"chose {select.values[0]}")


class DemoBot(commands.Bot):
    def __init__(self, **options: Any) -> None:
        options.setdefault("intents", discord.Intents.default())
        super().__init__(command_prefix="!", guild_ready_timeout=0.1, **options)
        self.held: list[discord.Interaction] = []
        self.errors: list[BaseException] = []
        self.seen_messages: list[discord.Message] = []
        self.late_errors: list[discord.HTTPException] = []
        # Set by the bot itself, so tests wait for what it did, not for time to pass.
        self.menu_ready = asyncio.Event()
        self.late_error_seen = asyncio.Event()
        self.add_dynamic_items(CounterButton)
        self.tree.add_command(build_group(self))

    async def on_message(self, message: discord.Message) -> None:
        self.seen_messages.append(message)

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        import sys

        self.errors.append(sys.exc_info()[1] or RuntimeError(event_method))


def build_group(bot: DemoBot) -> app_commands.Group:
    demo = app_commands.Group(name="demo", description="Demo commands")

    @demo.command(name="ping", description="Defer, then follow up with an embed and a file")
    async def ping(interaction: discord.Interaction, text: str = "pong") -> None:
        await interaction.response.defer(thinking=True)
        embed = discord.Embed(title="Pong", description=text)
        await interaction.followup.send(
            content=f"<@{interaction.user.id}> done",
            embed=embed,
            file=discord.File(io.BytesIO(b"hello file"), filename="hello.txt"),
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @demo.command(name="twice", description="Respond, then send one followup")
    async def twice(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("first")
        await interaction.followup.send("second", ephemeral=True)

    @demo.command(name="modal", description="Open a modal")
    async def modal(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(DemoModal())

    @demo.command(name="counter", description="Post a persistent counter button")
    async def counter(interaction: discord.Interaction) -> None:
        view = discord.ui.View(timeout=None)
        view.add_item(CounterButton(0))
        await interaction.response.send_message("count=0", view=view)

    @demo.command(name="hold", description="Defer and leave the interaction to the test")
    async def hold(interaction: discord.Interaction) -> None:
        # Kept before the defer: a test that saw the defer must find the interaction here.
        bot.held.append(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)

    @demo.command(name="upload", description="Hash an attachment")
    @app_commands.describe(file="A file", times="How many times")
    async def upload(
        interaction: discord.Interaction, file: discord.Attachment, times: int = 1
    ) -> None:
        data = await file.read()
        digest = hashlib.sha256(data).hexdigest()
        await interaction.response.send_message(
            f"{file.filename} {len(data)} {digest} x{times} limit={interaction.filesize_limit}"
        )

    @demo.command(name="pick", description="Pick a fruit")
    async def pick(interaction: discord.Interaction, fruit: str) -> None:
        await interaction.response.send_message(f"picked {fruit}")

    @pick.autocomplete("fruit")
    async def fruit_choices(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=f, value=f) for f in FRUITS if f.startswith(current)]

    @demo.command(name="menu", description="Post a select menu")
    async def menu(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("choose", view=MenuView())
        # discord.py stores the view once the response returns: only then can a pick reach it.
        bot.menu_ready.set()

    @demo.command(name="slow", description="Answer after the 3 s window")
    async def slow(interaction: discord.Interaction, delay: float) -> None:
        await asyncio.sleep(delay)
        try:
            await interaction.response.send_message("finally")
        except discord.HTTPException as exc:
            bot.late_errors.append(exc)
            bot.late_error_seen.set()

    return demo
