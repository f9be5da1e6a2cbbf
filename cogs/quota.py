"""/quota: moderators run their server's share of the owner's MusicAPI credit."""

from __future__ import annotations

import asyncio
import io
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import InputError, NotAllowed
from bot.interactions.components import GuardedView
from bot.interactions.gate import ACK_PRIVATE
from bot.interactions.permissions import moderator_only
from bot.interactions.replies import answer
from bot.markdown import Markdown, bold, escape, shorten
from bot.periods import BUDGET_PERIODS
from bot.quota.admin import HistoryPage
from bot.quota.limits import Standing, describe_reset
from bot.quota.usage import Usage, UsagePeriod
from bot.quota.usage_chart import render as render_usage
from bot.states import BudgetPeriod
from bot.store.ledger import LedgerEntry
from bot.validation.numbers import whole

if TYPE_CHECKING:
    from bot.app import MusicBot

MAX_CREDITS = 10_000_000
MAX_CONCURRENCY = 100
PERIOD_CHOICES = [app_commands.Choice(name=p.value, value=p.value) for p in BUDGET_PERIODS]
ON_OFF = [app_commands.Choice(name="on", value="on"), app_commands.Choice(name="off", value="off")]
USAGE_PERIODS = [
    app_commands.Choice(name="this period", value=UsagePeriod.CURRENT.value),
    app_commands.Choice(name="the period before", value=UsagePeriod.PREVIOUS.value),
]
CHANNEL_ACTIONS = [
    app_commands.Choice(name=name, value=name) for name in ("show", "add", "remove", "clear")
]


def _credits(field: str, amount: int, *, minimum: int = 0) -> int:
    return whole(field, amount, minimum, MAX_CREDITS, unit="credits")


def describe_entry(entry: LedgerEntry) -> str:
    """One line of `/quota history`: when, who, what, how much, which job."""
    when = f"<t:{int(entry.created_at)}:d> <t:{int(entry.created_at)}:t>"
    who = f"<@{entry.user_id}>" if entry.user_id else "the server"
    mod = f"<@{entry.moderator_id}>" if entry.moderator_id else "someone"
    job = f" (job #{entry.job_id})" if entry.job_id else ""
    op = entry.operation or "song"
    pool = "" if entry.member_share else ", server pool"
    text = {
        "reserve": f"{who} reserved {entry.amount} for {op}{job}{pool}",
        "commit": f"{who} was charged {entry.amount} for {op}{job}{pool}",
        # A release's note is the job's failure, often MusicAPI's own words: shown as written.
        "release": f"{who} got {entry.amount} back{job}: {escape(entry.note or 'failed', 300)}",
        "grant": f"{mod} granted {who} {entry.amount} credits",
        "reset": f"{mod} reset {who}'s spending this period ({entry.amount} forgiven)",
    }.get(entry.kind, f"{mod}: {entry.note or entry.kind}")
    if entry.kind == "setting" and entry.user_id:
        text = f"{mod}: {entry.note} for {who}"
    return f"{when} — {text}"


def history_embed(page: HistoryPage, member: discord.abc.User | None) -> discord.Embed:
    lines = [describe_entry(entry) for entry in page.entries] or ["Nothing yet."]
    embed = discord.Embed(
        title="Quota history" + (f" for {escape(member.display_name, 100)}" if member else ""),
        description=shorten(Markdown("\n".join(lines)), 4000),
        colour=discord.Colour.blurple(),
    )
    embed.set_footer(text=f"Page {page.page} of {page.pages} ({page.total} entries)")
    return embed


class HistoryPager(GuardedView):
    """◀ ▶ buttons on the (private) history message, for the moderator who asked."""

    def __init__(
        self, bot: MusicBot, page: HistoryPage, member: discord.abc.User | None, viewer: int
    ) -> None:
        super().__init__(timeout=300)
        self.bot = bot
        self.member = member
        self.viewer = viewer
        self._show(page)

    def _show(self, page: HistoryPage) -> None:
        self.page = page
        self.older.disabled = page.page >= page.pages
        self.newer.disabled = page.page <= 1

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.viewer:
            raise NotAllowed("Only the moderator who opened this history can turn its pages.")
        return await super().interaction_check(interaction)

    async def _turn(self, interaction: discord.Interaction, step: int) -> None:
        assert interaction.guild_id is not None
        page = await self.bot.quota_admin.history(
            interaction.guild_id, self.member.id if self.member else None, self.page.page + step
        )
        self._show(page)
        await interaction.edit_original_response(embed=history_embed(page, self.member), view=self)

    @discord.ui.button(label="◀ Newer", style=discord.ButtonStyle.secondary)
    async def newer(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        await self._turn(interaction, -1)

    @discord.ui.button(label="Older ▶", style=discord.ButtonStyle.secondary)
    async def older(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        await self._turn(interaction, +1)


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class QuotaCog(
    commands.GroupCog,
    group_name="quota",
    group_description="Moderators: credit quotas",
    group_extras=ACK_PRIVATE,
):
    # Every command is `@moderator_only()`: default permissions only hide them in the client.

    def __init__(self, bot: MusicBot) -> None:
        self.bot = bot
        super().__init__()

    async def _reply(self, interaction: discord.Interaction, text: str) -> None:
        await answer(interaction, text)

    @app_commands.command(name="show", description="This server's budget, limits and settings")
    @moderator_only()
    async def show(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        overview = await self.bot.quota_admin.overview(interaction.guild_id)
        standing, settings = overview.standing, overview.standing.settings
        embed = discord.Embed(title="Quota", colour=discord.Colour.blurple())
        per = "in total" if settings.budget_period == "none" else f"per {settings.budget_period}"
        embed.add_field(
            name="Budget",
            value=f"{settings.budget} credits {per}: {standing.server_spent} spent, "
            f"{standing.server_remaining} left. {describe_reset(standing.resets_at)}",
            inline=False,
        )
        if standing.allowance is not None:  # the owner's ceiling on the budget (/musicbot)
            embed.add_field(
                name="Allowance",
                value=f"{standing.allowance.describe()} ({standing.allowance.source}): the most "
                f"this server may budget; {standing.allowance_spent} used.",
                inline=False,
            )
        role_text = ", ".join(f"<@&{r}>: {a}" for r, a in overview.role_limits.items()) or "none"
        member_text = ", ".join(f"<@{u}>: {a}" for u, a in overview.member_limits.items()) or "none"
        embed.add_field(name="Role limits", value=role_text[:1024], inline=False)
        embed.add_field(name="Member limits", value=member_text[:1024], inline=False)
        caps = (
            f"{settings.member_jobs_cap or 'no cap'} per member, "
            f"{settings.server_jobs_cap or 'no cap'} per server "
            f"({standing.server_active} now)"
        )
        embed.add_field(name="Songs in progress", value=caps, inline=False)
        channels = ", ".join(f"<#{c}>" for c in standing.allowed_channels) or "any channel"
        embed.add_field(name="Channels", value=channels[:1024], inline=False)
        embed.add_field(
            name="Blocked",
            value=(", ".join(f"<@{u}>" for u in overview.blocked) or "nobody")[:1024],
        )
        embed.add_field(name="Request approval", value="on" if settings.approval else "off")
        embed.add_field(
            name="Moderator role",
            value=f"<@&{settings.mod_role_id}>" if settings.mod_role_id else "Manage Server only",
        )
        await answer(interaction, embed=embed)

    @app_commands.command(name="budget", description="Set how many credits this server may spend")
    @moderator_only()
    @app_commands.describe(amount="Credits per period", period="How often the budget resets")
    @app_commands.choices(period=PERIOD_CHOICES)
    async def budget(
        self, interaction: discord.Interaction, amount: int, period: app_commands.Choice[str]
    ) -> None:
        assert interaction.guild_id is not None
        chosen = BudgetPeriod(period.value)
        standing = await self.bot.quota_admin.set_budget(
            interaction.guild_id, _credits("amount", amount), chosen, interaction.user.id
        )
        per = "in total" if chosen == "none" else f"per {chosen}"
        await self._reply(
            interaction,
            f"Budget set to **{amount}** credits {per}. {standing.server_spent} already spent "
            f"this period, {standing.server_remaining} left. "
            f"{describe_reset(standing.resets_at)} Songs already in progress are not affected.",
        )

    @app_commands.command(name="member", description="Set one member's own limit per period")
    @moderator_only()
    @app_commands.describe(member="The member", amount="Credits per period; leave out to remove")
    async def member(
        self, interaction: discord.Interaction, member: discord.Member, amount: int | None = None
    ) -> None:
        assert interaction.guild_id is not None
        if amount is not None:
            _credits("amount", amount)
        await self.bot.quota_admin.set_member_limit(
            interaction.guild_id, member.id, amount, interaction.user.id
        )
        if amount is None:
            await self._reply(interaction, f"{member.mention}'s own limit removed.")
        else:
            await self._reply(
                interaction, f"{member.mention} may now spend **{amount}** credits per period."
            )

    @app_commands.command(name="role", description="Set a limit per period for a role")
    @moderator_only()
    @app_commands.describe(
        role="The role (@everyone sets the default)", amount="Credits; leave out to remove"
    )
    async def role(
        self, interaction: discord.Interaction, role: discord.Role, amount: int | None = None
    ) -> None:
        assert interaction.guild_id is not None
        if amount is not None:
            _credits("amount", amount)
        await self.bot.quota_admin.set_role_limit(
            interaction.guild_id, role.id, amount, interaction.user.id
        )
        if amount is None:
            await self._reply(interaction, f"Limit for {role.mention} removed.")
        else:
            await self._reply(
                interaction,
                f"Members with {role.mention} may spend **{amount}** credits per period "
                "(a member gets the highest of their roles; a member's own limit wins).",
            )

    @app_commands.command(name="grant", description="Give a member extra credits this period")
    @moderator_only()
    async def grant(
        self, interaction: discord.Interaction, member: discord.Member, amount: int
    ) -> None:
        assert interaction.guild_id is not None
        await self.bot.quota_admin.grant(
            interaction.guild_id, member.id, _credits("amount", amount, minimum=1),
            interaction.user.id,
        )  # fmt: skip
        await self._reply(
            interaction,
            f"Granted {member.mention} **{amount}** extra credits this period "
            "(on top of their limit; the server budget still applies).",
        )

    @app_commands.command(name="reset", description="Forgive spending so far this period")
    @moderator_only()
    @app_commands.describe(member="Only this member's spending; leave out for the server budget")
    async def reset(
        self, interaction: discord.Interaction, member: discord.Member | None = None
    ) -> None:
        assert interaction.guild_id is not None
        forgiven = await self.bot.quota_admin.reset(
            interaction.guild_id, member.id if member else None, interaction.user.id
        )
        whose = f"{member.mention}'s" if member else "The server's"
        await self._reply(interaction, f"{whose} spending reset ({forgiven} credits forgiven).")

    @app_commands.command(name="history", description="Who spent or changed what, newest first")
    @moderator_only()
    @app_commands.describe(member="Only entries about this member", page="Page number")
    async def history(
        self,
        interaction: discord.Interaction,
        member: discord.Member | None = None,
        page: int = 1,
    ) -> None:
        assert interaction.guild_id is not None
        result = await self.bot.quota_admin.history(
            interaction.guild_id, member.id if member else None, page
        )
        await answer(
            interaction,
            embed=history_embed(result, member),
            view=HistoryPager(self.bot, result, member, interaction.user.id),
        )

    @app_commands.command(name="usage", description="A chart of this server's spending per day")
    @moderator_only()
    @app_commands.describe(period="This budget period (the default) or the one before")
    @app_commands.choices(period=USAGE_PERIODS)
    async def usage(
        self, interaction: discord.Interaction, period: app_commands.Choice[str] | None = None
    ) -> None:
        assert interaction.guild is not None
        which = UsagePeriod(period.value) if period is not None else UsagePeriod.CURRENT
        usage, standing = await self.bot.quota_admin.usage(interaction.guild.id, which)
        names = [await _member_name(interaction.guild, s.user_id) for s in usage.series]
        title, subtitle = usage_titles(interaction.guild.name, usage, standing, which)
        png = await asyncio.to_thread(render_usage, usage, names, title=title, subtitle=subtitle)
        # The same facts in words, for screen readers and for anyone who cannot see the image.
        summary = f"{bold(escape(title))}\n{escape(subtitle)}"
        if usage.series:
            summary += "\nBy member: " + ", ".join(
                f"{escape(name, 100)} {s.total}"
                for name, s in zip(names, usage.series, strict=True)
            )
        await interaction.followup.send(
            shorten(Markdown(summary), 2000),
            file=discord.File(io.BytesIO(png), filename="usage.png", description=title[:1024]),
            ephemeral=True,
        )

    @app_commands.command(name="costs", description="What each operation costs, in credits")
    @moderator_only()
    async def costs(self, interaction: discord.Interaction) -> None:
        rows = [f"`{op}` {cost}" for op, cost in self.bot.quota.costs.items()]
        embed = discord.Embed(
            title="Costs (credits)",
            description=" · ".join(rows),
            colour=discord.Colour.blurple(),
        )
        embed.set_footer(text="The bot owner sets these with MUSICAPI_COSTS.")
        await answer(interaction, embed=embed)

    @app_commands.command(name="block", description="Stop a member from making songs here")
    @moderator_only()
    async def block(self, interaction: discord.Interaction, member: discord.Member) -> None:
        assert interaction.guild_id is not None
        changed = await self.bot.quota_admin.set_blocked(
            interaction.guild_id, member.id, True, interaction.user.id
        )
        text = "is now blocked" if changed else "was already blocked"
        await self._reply(interaction, f"{member.mention} {text}.")

    @app_commands.command(name="unblock", description="Let a blocked member make songs again")
    @moderator_only()
    async def unblock(self, interaction: discord.Interaction, member: discord.Member) -> None:
        assert interaction.guild_id is not None
        changed = await self.bot.quota_admin.set_blocked(
            interaction.guild_id, member.id, False, interaction.user.id
        )
        text = "is no longer blocked" if changed else "was not blocked"
        await self._reply(interaction, f"{member.mention} {text}.")

    @app_commands.command(name="channels", description="Limit songs to some channels")
    @moderator_only()
    @app_commands.describe(action="show, add, remove or clear", channel="The channel")
    @app_commands.choices(action=CHANNEL_ACTIONS)
    async def channels(
        self,
        interaction: discord.Interaction,
        action: app_commands.Choice[str],
        channel: discord.TextChannel | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        if action.value in ("add", "remove") and channel is None:
            raise InputError("channel", f"is needed to {action.value} a channel.")
        allowed = await self.bot.quota_admin.set_channel(
            interaction.guild_id,
            action.value,
            channel.id if channel else None,
            interaction.user.id,
        )
        where = ", ".join(f"<#{c}>" for c in allowed)
        text = f"Songs can be made in {where} only." if allowed else "Songs can be made anywhere."
        await self._reply(interaction, text)

    @app_commands.command(name="approval", description="Require approval for /request song")
    @moderator_only()
    @app_commands.choices(state=ON_OFF)
    async def approval(
        self, interaction: discord.Interaction, state: app_commands.Choice[str]
    ) -> None:
        assert interaction.guild_id is not None
        on = state.value == "on"
        await self.bot.quota_admin.set_approval(interaction.guild_id, on, interaction.user.id)
        text = (
            "Community requests now wait for a moderator's approval."
            if on
            else "Community requests now start at once, charged to the requester."
        )
        await self._reply(interaction, text)

    @app_commands.command(name="concurrency", description="Cap songs in progress at once")
    @moderator_only()
    @app_commands.describe(
        per_member="Per member (0: no cap)", per_server="For the whole server (0: no cap)"
    )
    async def concurrency(
        self, interaction: discord.Interaction, per_member: int, per_server: int
    ) -> None:
        assert interaction.guild_id is not None
        for field, value in (("per_member", per_member), ("per_server", per_server)):
            whole(field, value, 0, MAX_CONCURRENCY, unit="songs at a time")
        await self.bot.quota_admin.set_concurrency(
            interaction.guild_id, per_member or None, per_server or None, interaction.user.id
        )
        await self._reply(
            interaction,
            f"Songs in progress at once: {per_member or 'no cap'} per member, "
            f"{per_server or 'no cap'} for the server.",
        )

    @app_commands.command(name="modrole", description="A role whose members may run /quota")
    @moderator_only()
    @app_commands.describe(role="The role; leave out to allow Manage Server only")
    async def modrole(
        self, interaction: discord.Interaction, role: discord.Role | None = None
    ) -> None:
        assert interaction.guild_id is not None
        await self.bot.quota_admin.set_mod_role(
            interaction.guild_id, role.id if role else None, interaction.user.id
        )
        text = (
            f"Members with {role.mention} can now run `/quota` and approve requests."
            if role
            else "Only members with Manage Server can run `/quota` now."
        )
        await self._reply(interaction, text)


async def _member_name(guild: discord.Guild, user_id: int | None) -> str:
    """A display name for the chart's legend; names are not pings in a picture."""
    if user_id is None:
        return "others"
    member = guild.get_member(user_id)
    if member is None:
        try:
            member = await guild.fetch_member(user_id)
        except discord.HTTPException:  # left the server, or Discord is busy: say who it was
            return f"member {user_id}"
    return member.display_name


def usage_titles(
    server: str, usage: Usage, standing: Standing, which: UsagePeriod
) -> tuple[str, str]:
    first, last = usage.days[0], usage.days[-1]
    span = first.strftime("%d %b") + (f" – {last.strftime('%d %b %Y')}" if last != first else "")
    settings = standing.settings
    if settings.budget_period == BudgetPeriod.NONE:
        budget = f"budget {settings.budget} credits in total"
    else:
        budget = f"budget {settings.budget} credits per {settings.budget_period}"
    spent = f"{usage.total} spent in these days"
    if which == UsagePeriod.CURRENT and settings.budget_period != BudgetPeriod.DAY:
        spent = f"{standing.server_spent} spent so far"
    resets = (
        f"resets {standing.resets_at:%d %b %Y, %H:%M} UTC"
        if standing.resets_at is not None
        else "never resets"
    )
    server = server if len(server) <= 60 else server[:59] + "…"
    return f"{server} · spending {span}", f"{budget} · {spent} · {resets}"


async def setup(bot: MusicBot) -> None:
    await bot.add_cog(QuotaCog(bot))
