"""The /papers app-command group: typed subcommands that build core Commands, and autocomplete."""

# No `from __future__ import annotations`: discord.py reads the parameter annotations at runtime.
from collections.abc import Callable
from functools import cache
from typing import Any, Literal, Protocol

import discord
from discord import app_commands

from paperbot.core import commands as core
from paperbot.core import limits
from paperbot.core.commands import Command
from paperbot.core.messages import ChannelRef

MAX_CHOICES = 25
CHOICE_LIMIT = 100
HelpTopic = Literal[
    "search",
    "more-like-this",
    "trending",
    "subscribe",
    "unsubscribe",
    "list",
    "schedule",
    "size",
    "digest",
    "pause",
    "resume",
    "taste",
    "roundup",
    "help",
]
DAY_SUGGESTIONS = ("daily", "weekdays", "weekly", "weekends", "mon,wed,fri", "tue,thu")


class Runner(Protocol):
    """What the subcommands call (paperbot.adapters.discord.inbound.InteractionRunner)."""

    async def run(
        self, interaction: discord.Interaction[Any], build: Callable[[], Command], *, slow: bool
    ) -> None: ...

    async def topics(self, ref: ChannelRef) -> list[str]: ...


def channel_ref(interaction: discord.Interaction[Any]) -> ChannelRef:
    workspace = str(interaction.guild_id) if interaction.guild_id else "@me"
    return ChannelRef("discord", workspace, str(interaction.channel_id or 0))


@cache
def _zones() -> tuple[str, ...]:
    return core.zone_names()


def zone_choices(current: str) -> list[app_commands.Choice[str]]:
    """IANA zones containing what was typed, those starting with it first."""
    text = current.strip().lower().replace(" ", "_")
    starts = [z for z in _zones() if z.lower().startswith(text)]
    inside = [z for z in _zones() if text in z.lower() and z not in starts]
    picks = (starts + inside)[:MAX_CHOICES]
    return [app_commands.Choice(name=z, value=z) for z in picks]


def topic_choices(topics: list[str], current: str) -> list[app_commands.Choice[str]]:
    text = current.strip().lower()
    picks = [t for t in topics if text in t.lower() and len(t) <= CHOICE_LIMIT]
    if topics and "all".startswith(text):
        picks.append("all")
    return [app_commands.Choice(name=t, value=t) for t in picks[:MAX_CHOICES]]


def build_group(runner: Runner) -> app_commands.Group:
    group = app_commands.Group(
        name="papers",
        description="Research papers: search, trending, and this channel's daily digest",
        allowed_contexts=app_commands.AppCommandContext(guild=True, dm_channel=True),
        allowed_installs=app_commands.AppInstallationType(guild=True),
    )

    @group.command(name="search", description='Find papers ("phrases", -exclude, author:, cat:)')
    @app_commands.describe(query="What to look for", page="Result page (1 = best matches)")
    async def search(
        interaction: discord.Interaction,
        query: app_commands.Range[str, 1, limits.MAX_QUERY_CHARS],
        page: app_commands.Range[int, limits.SEARCH_PAGE.low, limits.SEARCH_PAGE.high] = 1,
    ) -> None:
        def build() -> Command:
            # Discord checks option ranges in its client only: raw payloads are checked here.
            if page not in limits.SEARCH_PAGE:
                low, high = limits.SEARCH_PAGE.low, limits.SEARCH_PAGE.high
                raise core.ParseError(f"Result pages go from {low} to {high}.")
            return core.Search(query=core.check_query(core.clean_text(query)), page=page)

        await runner.run(interaction, build, slow=True)

    @group.command(name="more-like-this", description="Papers similar to one paper")
    @app_commands.describe(paper="An arXiv id, e.g. 2401.12345")
    async def more_like_this(
        interaction: discord.Interaction,
        paper: app_commands.Range[str, 1, limits.MAX_PAPER_REF_CHARS],
    ) -> None:
        await runner.run(interaction, lambda: core.build("more-like-this", paper), slow=True)

    @group.command(name="trending", description="What is trending now")
    async def trending(interaction: discord.Interaction) -> None:
        await runner.run(interaction, core.Trending, slow=True)

    @group.command(name="subscribe", description="Add a topic to this channel's digest")
    @app_commands.describe(topic="A search query, e.g. diffusion -audio cat:cs.CV")
    async def subscribe(
        interaction: discord.Interaction, topic: app_commands.Range[str, 1, limits.MAX_TOPIC_CHARS]
    ) -> None:
        await runner.run(interaction, lambda: core.build("subscribe", topic), slow=False)

    @group.command(name="unsubscribe", description="Remove a topic (or all) from this channel")
    @app_commands.describe(topic="One of this channel's topics, or all")
    async def unsubscribe(
        interaction: discord.Interaction, topic: app_commands.Range[str, 1, limits.MAX_TOPIC_CHARS]
    ) -> None:
        await runner.run(interaction, lambda: core.build("unsubscribe", topic), slow=False)

    @unsubscribe.autocomplete("topic")
    async def unsubscribe_topics(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return topic_choices(await runner.topics(channel_ref(interaction)), current)

    @group.command(name="list", description="This channel's topics, schedule and next digest")
    async def list_settings(interaction: discord.Interaction) -> None:
        await runner.run(interaction, core.ListSettings, slow=False)

    @group.command(name="schedule", description="When this channel's digest is posted")
    @app_commands.describe(
        time="Local time, 24-hour HH:MM (e.g. 09:00); left out, the channel keeps its time",
        zone="IANA time zone, e.g. Europe/Berlin",
        days="daily, weekdays, weekly, or days like mon,wed,fri",
    )
    async def schedule(
        interaction: discord.Interaction,
        time: app_commands.Range[str, 1, 20] | None = None,
        zone: app_commands.Range[str, 1, 64] | None = None,
        days: app_commands.Range[str, 1, 60] | None = None,
    ) -> None:
        # The options read as the text command's words, so both platforms parse one way.
        text = " ".join(part for part in (time, zone, days) if part)
        await runner.run(interaction, lambda: core.build("schedule", text), slow=False)

    @schedule.autocomplete("zone")
    async def schedule_zones(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return zone_choices(current)

    @schedule.autocomplete("days")
    async def schedule_days(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        text = current.strip().lower()
        picks = [d for d in DAY_SUGGESTIONS if d.startswith(text)] or [text][: bool(text)]
        return [app_commands.Choice(name=d, value=d) for d in picks if len(d) <= CHOICE_LIMIT]

    @group.command(name="size", description="Papers per digest")
    @app_commands.describe(n=f"From {limits.DIGEST_SIZE.low} to {limits.DIGEST_SIZE.high}")
    async def size(
        interaction: discord.Interaction,
        n: app_commands.Range[int, limits.DIGEST_SIZE.low, limits.DIGEST_SIZE.high],
    ) -> None:
        await runner.run(interaction, lambda: core.build("size", str(n)), slow=False)

    @group.command(name="digest", description="Post this channel's next digest now")
    async def digest(interaction: discord.Interaction) -> None:
        await runner.run(interaction, core.DigestNow, slow=False)

    @group.command(name="pause", description="Stop this channel's daily digest")
    async def pause(interaction: discord.Interaction) -> None:
        await runner.run(interaction, core.Pause, slow=False)

    @group.command(name="resume", description="Start this channel's daily digest again")
    async def resume(interaction: discord.Interaction) -> None:
        await runner.run(interaction, core.Resume, slow=False)

    @group.command(name="taste", description="What this channel's 👍/👎 taught paperbot")
    @app_commands.describe(reset="Forget this channel's feedback (needs Manage Channels)")
    async def taste(interaction: discord.Interaction, reset: bool = False) -> None:
        await runner.run(interaction, lambda: core.Taste(reset=reset), slow=False)

    @group.command(name="roundup", description="The week's most liked and discussed papers")
    @app_commands.describe(
        when="now (default), weekly, or off",
        day="weekly: the day, e.g. fri",
        time="weekly: local time, 24-hour HH:MM (e.g. 16:00)",
        zone="weekly: IANA time zone (default: the channel's)",
    )
    async def roundup(
        interaction: discord.Interaction,
        when: Literal["now", "weekly", "off"] = "now",
        day: app_commands.Range[str, 1, 12] | None = None,
        time: app_commands.Range[str, 1, 20] | None = None,
        zone: app_commands.Range[str, 1, 64] | None = None,
    ) -> None:
        # The same words as Slack's `/papers roundup weekly fri 16:00 Europe/Paris`.
        words = [when, *(w for w in (day, time, zone) if w)] if when == "weekly" else [when]
        await runner.run(interaction, lambda: core.build("roundup", " ".join(words)), slow=False)

    @roundup.autocomplete("zone")
    async def roundup_zones(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return zone_choices(current)

    @group.command(name="help", description="What paperbot can do")
    @app_commands.describe(command="A command to explain")
    async def help_(interaction: discord.Interaction, command: HelpTopic | None = None) -> None:
        await runner.run(interaction, lambda: core.Help(topic=command), slow=False)

    return group
