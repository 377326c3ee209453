"""Feedback through the real discord.py client against the fake Discord: the digest's select
menus (like, dislike, discuss), a public thread per discussed paper, 👍/👎 reactions, replies in
threads, `/papers taste` and `/papers roundup`, a restart between feedback and the next digest,
two servers kept apart, a missing permission answered."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import discord
from discord_harness import (
    CHANNEL_A,
    CHANNEL_B,
    GUILD_A,
    GUILD_B,
    channel_row,
    eventually,
    running,
)
from fakes.discord import (
    BOT_OK,
    CREATE_PUBLIC_THREADS,
    MANAGE_CHANNELS,
    MEMBER,
    Failure,
    FakeDiscord,
    pinged,
)
from sqlalchemy import func, select, update

from paperbot.adapters.discord import buttons
from paperbot.adapters.discord.render import digest_parts
from paperbot.adapters.discord.threads import NEEDS, thread_name, vote_of
from paperbot.adapters.discord.views import build_view
from paperbot.bootstrap import Core
from paperbot.config import Settings
from paperbot.core.messages import ChannelRef, Digest, PaperCard
from paperbot.core.models import FeedbackSignal, FeedbackVote, Paper

MANAGER = MEMBER | MANAGE_CHANNELS


async def ask(fake: FakeDiscord, payload: dict[str, Any]) -> dict[str, Any]:
    """The bot's answer as the user sees it (the reply, or the follow-up after a defer)."""
    callback = await fake.interact(payload)
    assert callback.latency < 3.0
    flags = (callback.body.get("data") or {}).get("flags") or 0
    if callback.body["type"] == 5:
        message = await fake.followup(payload)
        return {**message, "ephemeral": bool(flags & 64), "deferred": True}
    return {**callback.body["data"], "ephemeral": bool(flags & 64), "deferred": False}


def command(fake: FakeDiscord, sub: str, options: dict[str, Any] | None = None, **kw: Any) -> Any:
    kw.setdefault("guild_id", GUILD_A)
    kw.setdefault("channel_id", CHANNEL_A)
    return fake.command(sub, options, **kw)


def menus(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """custom_id -> select menu, for the select menus of a message."""
    return {
        c["custom_id"]: c
        for row in message.get("components", [])
        for c in row["components"]
        if c["type"] == 3
    }


def keys_of(message: dict[str, Any]) -> list[str]:
    return [o["value"] for o in menus(message)["pb:like"]["options"]]


def choose(
    fake: FakeDiscord, message: dict[str, Any], action: str, key: str, **kw: Any
) -> dict[str, Any]:
    kw.setdefault("guild_id", GUILD_A)
    kw.setdefault("channel_id", int(message["channel_id"]))
    return fake.choose(f"pb:{action}", key, message, **kw)


async def post_digest(fake: FakeDiscord, size: int = 5, **kw: Any) -> list[dict[str, Any]]:
    """Set the channel's digest up (the day's trending papers) and post it now."""
    channel = kw.get("channel_id", CHANNEL_A)
    before = len(fake.messages.get(str(channel), []))
    await ask(fake, command(fake, "size", {"n": size}, permissions=MANAGER, **kw))
    posted = await ask(fake, command(fake, "digest", permissions=MANAGER, **kw))
    assert "Posted a digest" in posted["content"], posted
    return fake.messages[str(channel)][before:]


async def taste(fake: FakeDiscord, **kw: Any) -> str:
    said = await ask(fake, command(fake, "taste", **kw))
    assert said["ephemeral"]
    return str(said["content"])


def counts(core: Core) -> tuple[int, int]:
    """(votes, thread replies) the database holds, over every channel."""
    with core.session_factory() as session:
        votes = session.scalar(select(func.count()).select_from(FeedbackVote)) or 0
        replies = session.scalar(
            select(func.count()).select_from(FeedbackSignal).where(FeedbackSignal.kind == "reply")
        )
        return votes, replies or 0


def no_pings(fake: FakeDiscord) -> None:
    assert fake.violations == []
    for request in fake.requests:
        body = request.body if isinstance(request.body, dict) else {}
        assert pinged(body.get("data") or {} if "type" in body else body) == set()


# --- rendering ------------------------------------------------------------------------------


def card(i: int, title: str | None = None) -> PaperCard:
    return PaperCard(
        key=f"2401.{i:05d}",
        title=title or f"Paper {i}",
        url=f"https://arxiv.org/abs/2401.{i:05d}",
        summary="s",
    )


def test_ten_papers_fit_five_rows_with_the_marker_on_the_first_button() -> None:
    long = "A title @everyone <@1> " + "x" * 200
    cards = tuple(card(i, long if i == 3 else None) for i in range(1, 13))
    digest = Digest(ChannelRef("discord", "1", "2"), "Digest", cards, datetime(2026, 1, 1))
    parts = digest_parts(digest, "3f9a0c12d4e7")
    number = 0
    for index, part in enumerate(parts):
        view = build_view(part.buttons, part.selects)
        assert view is not None
        rows = view.to_components()
        assert len(rows) <= 5
        assert buttons.mark_of(part.buttons[0].custom_id) == buttons.Mark(
            "3f9a0c12d4e7", index, len(parts)
        )
        assert [s.custom_id for s in part.selects] == ["pb:like", "pb:dislike", "pb:discuss"]
        for menu in part.selects:
            assert len(menu.options) == len(part.embeds) <= 25
            for label, value in menu.options:
                assert len(label) <= 100 and len(value) <= 100
        labels = [label for label, _ in part.selects[0].options]
        assert labels[0].startswith(f"#{number + 1} ")
        number += len(part.embeds)
    assert number == 12


def test_thread_names_and_reactions() -> None:
    assert thread_name(card(1, "t" * 300)) == "t" * 99 + "…"
    assert thread_name(card(1, "Diffusion\n\u202efor all")) == "Diffusion for all"
    for emoji, vote in (("👍", "like"), ("👍🏽", "like"), ("👎🏿", "dislike"), ("👍️", "like")):
        assert vote_of(discord.PartialEmoji(name=emoji)) == vote
    assert vote_of(discord.PartialEmoji(name="🎉")) is None
    assert vote_of(discord.PartialEmoji(name="thumbsup", id=123)) is None


# --- over the gateway -----------------------------------------------------------------------


async def test_votes_from_the_menus_are_answered_privately_at_once(
    fake: FakeDiscord, make_discord_settings: Callable[..., Settings], core_for: Any
) -> None:
    core: Core = core_for(make_discord_settings())
    async with running(core):
        part = (await post_digest(fake))[0]
        assert fake.digests_in(CHANNEL_A) == 1  # the marker still finds the digest
        key = keys_of(part)[0]
        posts = len(fake.posts())
        liked = await ask(fake, choose(fake, part, "like", key))
        assert liked["ephemeral"] and not liked["deferred"]
        assert liked["content"].startswith("👍") and "#general" in liked["content"]
        again = await ask(fake, choose(fake, part, "like", key))
        assert "withdrawn" in again["content"]
        disliked = await ask(fake, choose(fake, part, "dislike", key, user_id=1002))
        assert disliked["content"].startswith("👎")
        stale = await ask(fake, choose(fake, part, "like", "no-such-paper"))
        assert stale["ephemeral"]
        assert len(fake.posts()) == posts  # nothing posted in the channel
        assert "1" in await taste(fake)
    no_pings(fake)


async def test_discuss_opens_one_public_thread_per_paper(
    fake: FakeDiscord, make_discord_settings: Callable[..., Settings], core_for: Any
) -> None:
    core: Core = core_for(make_discord_settings())
    async with running(core) as adapter:
        part = (await post_digest(fake))[0]
        key = keys_of(part)[0]
        title = next(o["label"] for o in menus(part)["pb:discuss"]["options"] if o["value"] == key)
        opened = await ask(fake, choose(fake, part, "discuss", key))
        assert opened["ephemeral"]
        (thread,) = fake.threads.values()
        assert opened["content"] == f"Started a thread for it: <#{thread['id']}>"
        assert thread["parent_id"] == str(CHANNEL_A) and thread["type"] == 11
        assert title.split(" ", 1)[1].rstrip("…") in thread["name"] + "…"
        (create,) = [r for r in fake.requests if r.route == "/channels/{channel_id}/threads"]
        assert create.body["type"] == 11 and len(create.body["name"]) <= 100
        (post,) = fake.messages[thread["id"]]
        assert post["embeds"] and post["embeds"][0]["url"].endswith(key)
        # A second press, by anyone, points to the same thread.
        again = await ask(fake, choose(fake, part, "discuss", key, user_id=1002))
        assert again["content"] == f"The discussion is here: <#{thread['id']}>"
        assert len(fake.threads) == 1
        # The client knows the thread (THREAD_CREATE), so its replies can be counted.
        assert adapter.client is not None
        assert isinstance(adapter.client.get_channel(int(thread["id"])), discord.Thread)
    no_pings(fake)


async def test_two_presses_at_once_open_one_thread(
    fake: FakeDiscord, make_discord_settings: Callable[..., Settings], core_for: Any
) -> None:
    core: Core = core_for(make_discord_settings())
    async with running(core):
        part = (await post_digest(fake))[0]
        key = keys_of(part)[0]
        said = await asyncio.gather(
            ask(fake, choose(fake, part, "discuss", key)),
            ask(fake, choose(fake, part, "discuss", key, user_id=1002)),
        )
        assert len(fake.threads) == 1
        assert sorted(a["content"].split(" ")[0] for a in said) == ["Started", "The"]
    no_pings(fake)


async def test_thread_replies_and_reactions_count(
    fake: FakeDiscord, make_discord_settings: Callable[..., Settings], core_for: Any
) -> None:
    core: Core = core_for(make_discord_settings())
    async with running(core) as adapter:
        part = (await post_digest(fake))[0]
        first, second = keys_of(part)[:2]
        await ask(fake, choose(fake, part, "discuss", first))
        (thread,) = fake.threads.values()
        thread_id = int(thread["id"])
        (post,) = fake.messages[thread["id"]]
        for user in (1001, 1002, 1003):
            await fake.say(thread_id, guild_id=GUILD_A, user_id=user)
        await fake.say(thread_id, guild_id=GUILD_A, user_id=1004, bot=True)  # another bot
        await fake.say(CHANNEL_A, guild_id=GUILD_A, user_id=1001)  # not in a thread
        # 👍 on the thread's one-paper post counts; on the digest part (several papers) not.
        await fake.react(thread_id, post["id"], "👍🏽", guild_id=GUILD_A, user_id=1001)
        await fake.react(thread_id, post["id"], "👍", guild_id=GUILD_A, user_id=1002)
        await fake.react(thread_id, post["id"], "👎", guild_id=GUILD_A, user_id=1003)
        await fake.react(thread_id, post["id"], "👎", guild_id=GUILD_A, user_id=1003, added=False)
        await fake.react(thread_id, post["id"], "👍", guild_id=GUILD_A, user_id=fake.application_id)
        await fake.react(CHANNEL_A, part["id"], "👍", guild_id=GUILD_A, user_id=1003)
        await ask(fake, choose(fake, part, "like", second, user_id=1005))
        # Gateway events are counted after they arrive: wait until the three replies are in.
        assert await eventually(lambda: counts(core) == (3, 3), timeout=10), counts(core)
        roundup = await ask(fake, command(fake, "roundup", permissions=MANAGER))
        assert "error" not in roundup["content"].lower(), roundup
        posted = fake.messages[str(CHANNEL_A)][-1]
        text = " ".join(e["title"] + e["description"] for e in posted["embeds"])
        assert "3 replies" in text and "👍 2" in text
        assert posted["embeds"][0]["url"].endswith(first)  # the most engaged first
        assert adapter.client is not None
    no_pings(fake)


async def test_a_missing_permission_is_answered_and_pauses_nothing(
    fake: FakeDiscord, make_discord_settings: Callable[..., Settings], core_for: Any
) -> None:
    core: Core = core_for(make_discord_settings())
    async with running(core):
        part = (await post_digest(fake))[0]
        key = keys_of(part)[0]
        without = BOT_OK & ~CREATE_PUBLIC_THREADS
        said = await ask(fake, choose(fake, part, "discuss", key, app_permissions=without))
        assert said["ephemeral"] and said["content"] == NEEDS
        assert not [r for r in fake.requests if r.route == "/channels/{channel_id}/threads"]
        # Discord refuses although the interaction said yes (an overwrite changed meanwhile).
        fake.fail(f"{CHANNEL_A}/threads", Failure(403, 50013, "Missing Permissions"))
        refused = await ask(fake, choose(fake, part, "discuss", key))
        assert refused["content"] == NEEDS and not fake.threads
        row = channel_row(core, GUILD_A, CHANNEL_A)
        assert row is not None and not row.paused
        # Given back, the same press opens the thread.
        opened = await ask(fake, choose(fake, part, "discuss", key))
        assert opened["content"].startswith("Started a thread")
    no_pings(fake)


async def test_taste_and_roundup_subcommands(
    fake: FakeDiscord, make_discord_settings: Callable[..., Settings], core_for: Any
) -> None:
    core: Core = core_for(make_discord_settings())
    async with running(core):
        part = (await post_digest(fake))[0]
        await ask(fake, choose(fake, part, "like", keys_of(part)[0]))
        assert "1" in await taste(fake)
        refused = await ask(fake, command(fake, "taste", {"reset": True}))
        assert refused["ephemeral"] and "Manage Channels" in refused["content"]
        weekly = await ask(
            fake,
            command(
                fake,
                "roundup",
                {"when": "weekly", "day": "fri", "time": "16:00", "zone": "Europe/Paris"},
                permissions=MANAGER,
            ),
        )
        assert not weekly["ephemeral"], weekly
        bad = await ask(fake, command(fake, "roundup", {"when": "weekly"}, permissions=MANAGER))
        assert bad["ephemeral"] and "day and time" in bad["content"]
        off = await ask(fake, command(fake, "roundup", {"when": "off"}))
        assert off["ephemeral"] and "Manage Channels" in off["content"]
        forgot = await ask(fake, command(fake, "taste", {"reset": True}, permissions=MANAGER))
        assert "Forgot" in forgot["content"]
    no_pings(fake)


async def test_feedback_outlives_a_restart_and_servers_stay_apart(
    fake: FakeDiscord, make_discord_settings: Callable[..., Settings], core_for: Any
) -> None:
    settings = make_discord_settings()
    core: Core = core_for(settings)
    freshen(core)
    async with running(core):
        part = (await post_digest(fake, size=2))[0]
        for key in keys_of(part):
            for user in (1001, 1002):
                await ask(fake, choose(fake, part, "like", key, user_id=user))
        # Server B's channel is its own: its members' feedback stays there.
        other = (await post_digest(fake, size=2, guild_id=GUILD_B, channel_id=CHANNEL_B))[0]
        await ask(fake, choose(fake, other, "dislike", keys_of(other)[0], guild_id=GUILD_B))
        await ask(fake, choose(fake, part, "discuss", keys_of(part)[0]))
    restarted: Core = core_for(settings)  # a new process on the same database
    async with running(restarted):
        # The thread opened before the restart is known again (GUILD_CREATE lists it).
        (thread,) = fake.threads
        await fake.say(thread, guild_id=GUILD_A, user_id=1003)
        assert await eventually(lambda: counts(restarted)[1] == 1, timeout=10)
        assert "4" in await taste(fake)
        told = await taste(fake, guild_id=GUILD_B, channel_id=CHANNEL_B)
        assert "4" not in told and "1" in told
        ref = ChannelRef("discord", str(GUILD_A), str(CHANNEL_A))
        assert (
            restarted.service.react(
                ref, part["id"], "1003", "like", added=True, now=datetime.now().astimezone()
            )
            is False
        )  # a digest part of two papers: a reaction there says nothing
        nxt = preview(restarted, ref)
        assert nxt.papers and not {c.key for c in nxt.papers} & set(keys_of(part))
        assert any(c.why and "liked: " in c.why for c in nxt.papers)


def freshen(core: Core) -> None:
    """Date every sample paper yesterday, so a day's digest leaves papers for the next one
    (the bundled ones are older than the window: only a first digest would show them)."""
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    with core.session_factory.begin() as session:
        session.execute(update(Paper).values(announced=yesterday))


def preview(core: Core, where: ChannelRef) -> Digest:
    """The digest the channel gets next (built as delivery builds it, not posted)."""
    found = core.service.preview_digest(where, now=datetime.now(UTC))
    assert found is not None, where
    return found.digest
