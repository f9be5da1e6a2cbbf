"""/musicbot: the bot owner's commands."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import InputError, NotAllowed
from bot.features import FEATURES, Features
from bot.interactions.components import GuardedView
from bot.interactions.gate import ACK_PRIVATE
from bot.interactions.permissions import OWNER_ONLY, is_owner, owner_only
from bot.interactions.replies import answer
from bot.musicapi.errors import MusicAPIError
from bot.observability.status import StatusFacts
from bot.observability.status import render as render_status
from bot.periods import BUDGET_PERIODS
from bot.quota.allowance import MAX_CREDITS, fits
from bot.quota.limits import Standing
from bot.quota.owner import ServerLine, ServersPage
from bot.states import BudgetPeriod
from bot.store import jobs as job_sql
from bot.validation.choices import required_choice
from bot.validation.numbers import whole

if TYPE_CHECKING:
    from bot.app import MusicBot

FEATURE_CHOICES = [app_commands.Choice(name=f.title, value=f.name) for f in FEATURES.values()]
ON_OFF = [app_commands.Choice(name="on", value="on"), app_commands.Choice(name="off", value="off")]
PERIOD_CHOICES = [app_commands.Choice(name=p.value, value=p.value) for p in BUDGET_PERIODS]


# Default permissions only hide the commands; a server can change them, so every command
# here also checks for the owner when it runs.
@app_commands.default_permissions(administrator=True)
class Owner(
    commands.GroupCog,
    group_name="musicbot",
    group_description="Bot owner only",
    group_extras=ACK_PRIVATE,
):
    def __init__(self, bot: MusicBot) -> None:
        self.bot = bot
        self.features = Features(bot.db, clock=bot.clock)
        super().__init__()

    @app_commands.command(name="sync", description="Register the slash commands with Discord")
    @owner_only()
    @app_commands.describe(
        scope="global (all servers, may take a while), this server only, or remove this "
        "server's copies once the global ones show"
    )
    @app_commands.choices(
        scope=[
            app_commands.Choice(name="global", value="global"),
            app_commands.Choice(name="this server", value="here"),
            app_commands.Choice(name="clear this server's copies", value="clear-here"),
        ]
    )
    async def sync(
        self, interaction: discord.Interaction, scope: app_commands.Choice[str] | None = None
    ) -> None:
        chosen = scope.value if scope is not None else "global"
        if chosen == "clear-here" and interaction.guild is not None:
            await interaction.followup.send(
                await self._clear_server_copies(interaction.guild), ephemeral=True
            )
            return
        if chosen == "here" and interaction.guild is not None:
            self.bot.tree.copy_global_to(guild=interaction.guild)
            count = len(await self.bot.tree.sync(guild=interaction.guild))
        else:
            count = len(await self.bot.tree.sync())
        await interaction.followup.send(f"Synced {count} command(s).", ephemeral=True)

    async def _clear_server_copies(self, guild: discord.abc.Snowflake) -> str:
        """After going global, a server that also has its own copies shows every command
        twice. Removing the copies is refused while no global commands exist: it would take
        away the last /musicbot there too."""
        if not await self.bot.tree.fetch_commands():
            return (
                "No global commands are registered yet, so this server's copies stay: run "
                "`/musicbot sync scope:global` first, wait until the commands show up "
                "everywhere, then clear this server's copies."
            )
        self.bot.tree.clear_commands(guild=guild)
        await self.bot.tree.sync(guild=guild)
        return (
            "Removed this server's copies of the commands; the global ones remain. Discord may "
            "take a moment to refresh the list."
        )

    @app_commands.command(name="status", description="Health, upstream credits, jobs, version")
    @owner_only()
    async def status(self, interaction: discord.Interaction) -> None:
        bot, ops = self.bot, self.bot.ops
        try:
            credits = await bot.musicapi.get_credits()
            ops.upstream.credits_seen(credits)
            balance = f"{credits.credits:g} monthly + {credits.extra_credits:g} extra"
        except MusicAPIError as error:
            balance = f"unavailable ({type(error).__name__})"
        async with bot.db.read() as conn:
            counts = await job_sql.count_unfinished(conn)
        jobs: dict[str, int] = {}
        for state, _family, count in counts:
            jobs[state] = jobs.get(state, 0) + count
        orphans = await bot.jobs.count_orphans()
        facts = StatusFacts(
            version=bot.version,
            mode="simulator" if bot.settings.musicapi_simulate else "live",
            uptime_s=ops.uptime_s(),
            gateway_latency_s=ops.gateway_latency(),
            shards=_shards(bot),
            servers=len(bot.guilds),
            database=ops.database_backend(),
            jobs_by_state=jobs,
            webhooks=ops.webhook_mode(),
            balance=balance,
            orphans=orphans,
            last_upstream_error=ops.upstream.last_error,
            features=await self._feature_summary(),
        )
        await interaction.followup.send(render_status(facts), ephemeral=True)

    @app_commands.command(name="feature", description="Turn an optional command family on or off")
    @owner_only()
    @app_commands.describe(
        name="The family (off by default because upstream retired it)",
        state="on: members may use it (and spend credits on it); off: it refuses",
    )
    @app_commands.choices(name=FEATURE_CHOICES, state=ON_OFF)
    async def feature(
        self,
        interaction: discord.Interaction,
        # Plain strings with choices: a value outside them gets a refusal naming the option.
        name: str,
        state: str,
    ) -> None:
        chosen = FEATURES[required_choice("name", name, FEATURES)]
        enabled = required_choice("state", state, ("on", "off")) == "on"
        changed = await self.features.set(chosen.name, enabled, interaction.user.id)
        now = "on" if enabled else "off"
        head = f"{chosen.title} is {'now' if changed else 'already'} {now}"
        effect = (
            f"`/{chosen.name}` works in every server, through each server's quota."
            if enabled
            else f"`/{chosen.name}` refuses in every server."
        )
        await answer(interaction, f"{head}: {effect}\nFeatures: {await self._feature_summary()}.")

    @app_commands.command(
        name="allowance", description="The most a server's moderators may budget, per period"
    )
    @owner_only()
    @app_commands.describe(
        server="The server's id (right-click the server with Developer Mode on → Copy Server ID)",
        amount="Credits per period (0: the server may spend nothing)",
        period="The allowance's period; a budget of a shorter period counts every repeat",
    )
    @app_commands.choices(period=PERIOD_CHOICES)
    async def allowance(
        self, interaction: discord.Interaction, server: str, amount: int, period: str
    ) -> None:
        guild_id = _server_id(server)
        chosen = BudgetPeriod(
            required_choice("period", period, tuple(p.value for p in BUDGET_PERIODS))
        )
        credits = whole("amount", amount, 0, MAX_CREDITS, unit="credits")
        standing = await self.bot.owner_ceilings.set_allowance(
            guild_id, credits, chosen, interaction.user.id
        )
        settings = standing.settings
        assert standing.allowance is not None
        budget = _per(settings.budget, settings.budget_period)
        text = (
            f"Allowance of {self._server_name(guild_id)} set to "
            f"**{standing.allowance.describe()}**. Its budget: {budget}."
        )
        if not fits(settings.budget, settings.budget_period, standing.allowance):
            text += (
                " That budget is above the new allowance: the server's songs are held to the "
                "allowance from now on, and its moderators can only set a budget within it."
            )
        await answer(interaction, text)

    @app_commands.command(
        name="servers", description="Every server: its allowance, budget and spending"
    )
    @owner_only()
    @app_commands.describe(page="Page number")
    async def servers(self, interaction: discord.Interaction, page: int = 1) -> None:
        found = await self._servers_page(page)
        await answer(interaction, embed=self.servers_embed(found), view=ServersPager(self, found))

    async def _servers_page(self, page: int) -> ServersPage:
        return await self.bot.owner_ceilings.servers((g.id for g in self.bot.guilds), page)

    def _server_name(self, guild_id: int) -> str:
        guild = self.bot.get_guild(guild_id)
        if guild is None:
            return f"server `{guild_id}`"
        name = discord.utils.escape_markdown(guild.name[:60])
        return f"**{name}** (`{guild_id}`)"

    def servers_embed(self, found: ServersPage) -> discord.Embed:
        lines = [self._server_line(line) for line in found.lines] or ["No servers yet."]
        embed = discord.Embed(
            title="Servers", description="\n".join(lines)[:4000], colour=discord.Colour.blurple()
        )
        cap = self.bot.settings.owner_daily_cap
        cap_text = f"daily cap {cap} credits" if cap is not None else "no daily cap"
        embed.set_footer(
            text=f"Page {found.page} of {found.pages} ({found.total} servers) · {cap_text}"
        )
        return embed

    def _server_line(self, line: ServerLine) -> str:
        standing: Standing = line.standing
        settings = standing.settings
        allowance = line.allowance
        return (
            f"{self._server_name(line.guild_id)}: allowance {allowance.describe()} "
            f"({allowance.source}, {standing.allowance_spent} used); budget "
            f"{_per(settings.budget, settings.budget_period)}, {standing.server_spent} spent "
            + (
                "so far"
                if settings.budget_period == BudgetPeriod.NONE
                else f"this {settings.budget_period}"
            )
        )

    async def _feature_summary(self) -> str:
        states = await self.features.states()
        return ", ".join(f"{name} {'on' if on else 'off'}" for name, on in states.items())


class ServersPager(GuardedView):
    """◀ ▶ on the (private) server list; each press is checked for the owner again."""

    def __init__(self, cog: Owner, page: ServersPage) -> None:
        super().__init__(timeout=300)
        self.cog = cog
        self._show(page)

    def _show(self, page: ServersPage) -> None:
        self.page = page
        self.newer.disabled = page.page <= 1
        self.older.disabled = page.page >= page.pages

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if not await is_owner(interaction):
            raise NotAllowed(OWNER_ONLY)
        return await super().interaction_check(interaction)

    async def _turn(self, interaction: discord.Interaction, step: int) -> None:
        page = await self.cog._servers_page(self.page.page + step)
        self._show(page)
        await interaction.edit_original_response(embed=self.cog.servers_embed(page), view=self)

    @discord.ui.button(label="◀ Previous", style=discord.ButtonStyle.secondary)
    async def newer(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        await self._turn(interaction, -1)

    @discord.ui.button(label="Next ▶", style=discord.ButtonStyle.secondary)
    async def older(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        await self._turn(interaction, +1)


def _per(amount: int, period: BudgetPeriod) -> str:
    return f"{amount} credits " + ("in total" if period == BudgetPeriod.NONE else f"per {period}")


def _server_id(raw: str) -> int:
    text = raw.strip()
    if not text.isdigit() or not 15 <= len(text) <= 21:
        raise InputError("server", "expected a server id (a 17-20 digit number).")
    return int(text)


def _shards(bot: commands.AutoShardedBot) -> str:
    """`0, 1 of 4` for a process running a range; `all 2` when it runs every shard."""
    count = bot.shard_count or 1
    if bot.shard_ids:
        return f"{', '.join(str(i) for i in bot.shard_ids)} of {count}"
    return f"all {count}"


async def setup(bot: MusicBot) -> None:
    await bot.add_cog(Owner(bot))
