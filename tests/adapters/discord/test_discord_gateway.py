"""The real discord.py client over a real websocket and REST against the fake Discord, driven by
raw INTERACTION_CREATE payloads: every subcommand, autocomplete, buttons, guild events."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from discord_harness import (
    CHANNEL_A,
    CHANNEL_A2,
    CHANNEL_B,
    DM_CHANNEL,
    GUILD_A,
    GUILD_B,
    channel_row,
    eventually,
    running,
)
from fakes.discord import (
    ADMINISTRATOR,
    MANAGE_CHANNELS,
    MEMBER,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    FakeDiscord,
    pinged,
)

from paperbot.bootstrap import Core
from paperbot.config import Settings

MANAGER = MEMBER | MANAGE_CHANNELS
HOSTILE = "@everyone <@1001> **diffusion** `x` ||y|| \u0000 [z](https://evil.example)"


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


def custom_ids(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in message.get("components", []) for c in row["components"]]


def no_pings(fake: FakeDiscord) -> None:
    assert fake.violations == []
    for request in fake.requests:
        body = request.body if isinstance(request.body, dict) else {}
        assert pinged((body.get("data") or {}) if "type" in body else body) == set()


async def test_search_buttons_and_hostile_text(
    fake: FakeDiscord, make_discord_settings: Callable[..., Settings], core_for: Any
) -> None:
    core: Core = core_for(make_discord_settings())
    async with running(core):
        payload = command(fake, "search", {"query": "diffusion"})
        answer = await ask(fake, payload)
        assert answer["deferred"] and answer["ephemeral"]
        assert answer["content"].startswith("Papers for “diffusion” (1–5 of")
        assert 1 <= len(answer["embeds"]) <= 5
        assert all(e["title"] and e["description"] for e in answer["embeds"])
        ids = custom_ids(answer)
        assert ids[-1] == "pb:next:2:diffusion" and ids[0].startswith("pb:mlt:")

        page2 = await ask(fake, fake.click(ids[-1], answer, guild_id=GUILD_A, channel_id=CHANNEL_A))
        assert "(6–10 of" in page2["content"]
        assert {e["title"][3:] for e in page2["embeds"]}.isdisjoint(
            {e["title"][3:] for e in answer["embeds"]}
        )

        hostile = await ask(fake, command(fake, "search", {"query": HOSTILE}))
        assert "@everyone" not in hostile["content"]  # defused, and nothing pings anyway
        too_long = await ask(fake, command(fake, "search", {"query": "q" * 600}))
        assert too_long["ephemeral"] and "under 500" in too_long["content"]
        bad_page = await ask(fake, command(fake, "search", {"query": "x", "page": 0}))
        assert "1 to 50" in bad_page["content"]

        # A query too long for the button's custom id: "Next" reads it from the footer.
        long_query = "diffusion " * 12
        first = await ask(fake, command(fake, "search", {"query": long_query}))
        assert custom_ids(first)[-1] == "pb:next:2"
        nxt = await ask(
            fake, fake.click("pb:next:2", first, guild_id=GUILD_A, channel_id=CHANNEL_A)
        )
        assert "(6–10 of" in nxt["content"]

    # After a restart the buttons on old messages still work.
    async with running(core):
        similar = await ask(
            fake, fake.click(ids[0], answer, guild_id=GUILD_A, channel_id=CHANNEL_A)
        )
        assert similar["content"].startswith("Papers like")
        assert similar["embeds"]
        # A DM: search works there too.
        dm = await ask(
            fake,
            fake.command("search", {"query": "diffusion"}, guild_id=None, channel_id=DM_CHANNEL),
        )
        assert dm["embeds"]
    no_pings(fake)


async def test_channel_commands_check_permissions_at_run_time(
    fake: FakeDiscord, make_discord_settings: Callable[..., Settings], core_for: Any
) -> None:
    core: Core = core_for(make_discord_settings())
    async with running(core):
        refused = await ask(fake, command(fake, "subscribe", {"topic": "diffusion"}))
        assert refused["ephemeral"] and "Manage Channels" in refused["content"]
        assert channel_row(core, GUILD_A, CHANNEL_A) is None

        ok = await ask(
            fake, command(fake, "subscribe", {"topic": "diffusion"}, permissions=MANAGER)
        )
        assert not ok["ephemeral"] and "Subscribed this channel to “diffusion”" in ok["content"]
        admin = await ask(
            fake,
            command(
                fake,
                "subscribe",
                {"topic": "agents"},
                channel_id=CHANNEL_A2,
                permissions=MEMBER | ADMINISTRATOR,
            ),
        )
        assert "Subscribed" in admin["content"]

        mute = await ask(
            fake,
            command(
                fake,
                "subscribe",
                {"topic": "llm"},
                permissions=MANAGER,
                app_permissions=VIEW_CHANNEL | SEND_MESSAGES,
            ),
        )
        assert mute["ephemeral"] and "Embed Links" in mute["content"]

        dm = await ask(
            fake, fake.command("subscribe", {"topic": "x"}, guild_id=None, channel_id=DM_CHANNEL)
        )
        assert dm["ephemeral"] and "direct message" in dm["content"]

        # Guilds are isolated: B sees nothing of A's channel.
        listed = await ask(fake, command(fake, "list", guild_id=GUILD_B, channel_id=CHANNEL_B))
        assert "no digest yet" in listed["content"]
        choices = await fake.interact(
            command(
                fake,
                "unsubscribe",
                {"topic": ""},
                focused="topic",
                guild_id=GUILD_B,
                channel_id=CHANNEL_B,
            )
        )
        assert choices.body == {"type": 8, "data": {"choices": []}}
    no_pings(fake)


async def test_every_subcommand_over_the_gateway(
    fake: FakeDiscord, make_discord_settings: Callable[..., Settings], core_for: Any
) -> None:
    core: Core = core_for(make_discord_settings())

    async def run(sub: str, options: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
        return await ask(fake, command(fake, sub, options, permissions=MANAGER, **kw))

    async with running(core):
        await run("subscribe", {"topic": "diffusion"})
        await run("subscribe", {"topic": "reinforcement learning"})
        topics = await fake.interact(command(fake, "unsubscribe", {"topic": "re"}, focused="topic"))
        assert topics.latency < 3.0
        assert topics.body["data"]["choices"] == [
            {"name": "reinforcement learning", "value": "reinforcement learning"}
        ]
        assert (
            "Unsubscribed"
            in (await run("unsubscribe", {"topic": "reinforcement learning"}))["content"]
        )
        zones = await fake.interact(
            command(fake, "schedule", {"time": "7", "zone": "berl"}, focused="zone")
        )
        assert {"name": "Europe/Berlin", "value": "Europe/Berlin"} in zones.body["data"]["choices"]
        scheduled = await run(
            "schedule", {"time": "07:30", "zone": "Europe/Berlin", "days": "weekdays"}
        )
        assert "07:30 Europe/Berlin on weekdays" in scheduled["content"]
        # The time may be left out: the channel keeps it, as the text command does.
        weekly = await run("schedule", {"days": "weekly"})
        assert "07:30 Europe/Berlin on Mondays" in weekly["content"], weekly
        bad_zone = await run("schedule", {"time": "07:30", "zone": "Mars/Olympus"})
        assert bad_zone["ephemeral"] and "not a time zone" in bad_zone["content"]
        assert "7 papers" in (await run("size", {"n": 7}))["content"]
        assert "1 to 20" in (await run("size", {"n": 0}))["content"]
        listed = await run("list")
        assert "“diffusion”" in listed["content"] and "07:30" in listed["content"]
        assert "Paused" in (await run("pause"))["content"]
        assert "Resumed" in (await run("resume"))["content"]
        assert "/papers search" in (await run("help"))["content"]
        assert "/papers schedule" in (await run("help", {"command": "schedule"}))["content"]
        trending = await run("trending")
        assert trending["deferred"] and trending["embeds"]
        mlt = await run("more-like-this", {"paper": "no-such-paper"})
        assert mlt["ephemeral"] and "don't know the paper" in mlt["content"]

        stale = await run("frobnicate")  # a subcommand this version does not have
        assert stale["ephemeral"] and "out of date" in stale["content"]

        posted = await run("digest")
        assert "Posted a digest" in posted["content"]
        digest_posts = fake.posts(CHANNEL_A)
        assert digest_posts
        for request in digest_posts:
            assert request.body["allowed_mentions"]["parse"] == []
            assert len(request.body["nonce"]) <= 25 and request.body["enforce_nonce"]
            assert 1 <= len(request.body["embeds"]) <= 10
    no_pings(fake)


async def test_removed_channels_and_guilds_pause_without_retry_storms(
    fake: FakeDiscord, make_discord_settings: Callable[..., Settings], core_for: Any
) -> None:
    from datetime import UTC, datetime, timedelta

    core: Core = core_for(make_discord_settings())
    async with running(core) as adapter:
        for channel in (CHANNEL_A, CHANNEL_A2):
            await ask(
                fake,
                command(
                    fake,
                    "subscribe",
                    {"topic": "diffusion"},
                    channel_id=channel,
                    permissions=MANAGER,
                ),
            )
        fake.fail(CHANNEL_A, _unknown_channel())
        answer = await ask(fake, command(fake, "digest", permissions=MANAGER))
        assert "Posted" not in answer["content"]
        row = await eventually(lambda: (r := channel_row(core, GUILD_A, CHANNEL_A)) and r.paused)
        assert row
        reason = channel_row(core, GUILD_A, CHANNEL_A).pause_reason  # type: ignore[union-attr]
        assert reason and "Unknown Channel" in reason
        assert len(fake.posts(CHANNEL_A)) == 1
        later = datetime.now(UTC) + timedelta(days=2)
        for hours in (0, 1, 30):
            await asyncio.to_thread(core.service.deliver_due, later + timedelta(hours=hours))
        assert len(fake.posts(CHANNEL_A)) == 1  # paused: never asked again

        await fake.dispatch(
            "CHANNEL_DELETE",
            {
                "id": str(CHANNEL_A2),
                "guild_id": str(GUILD_A),
                "type": 0,
                "name": "papers",
                "position": 0,
                "permission_overwrites": [],
            },
            GUILD_A,
        )
        gone = await eventually(lambda: (r := channel_row(core, GUILD_A, CHANNEL_A2)) and r.paused)
        assert gone
        await ask(
            fake,
            command(
                fake,
                "subscribe",
                {"topic": "x"},
                guild_id=GUILD_B,
                channel_id=CHANNEL_B,
                permissions=MANAGER,
            ),
        )
        await fake.remove_guild(GUILD_B)
        removed = await eventually(
            lambda: (r := channel_row(core, GUILD_B, CHANNEL_B)) and r.paused
        )
        assert removed
        row_b = channel_row(core, GUILD_B, CHANNEL_B)
        assert row_b is not None and "removed" in (row_b.pause_reason or "")

        # Until discord.py is ready, a GUILD_CREATE counts as start-up, not as a join.
        assert adapter.client is not None
        await asyncio.wait_for(adapter.client.wait_until_ready(), 10)
        await fake.readd_guild(GUILD_B, {CHANNEL_B: "general"})
        back = await eventually(
            lambda: (r := channel_row(core, GUILD_B, CHANNEL_B)) and not r.paused
        )
        assert back
        assert channel_row(core, GUILD_A, CHANNEL_A2).paused  # type: ignore[union-attr]


def _unknown_channel() -> Any:
    from fakes.discord import Failure

    return Failure(404, 10003, "Unknown Channel", times=None)


async def test_buttons_posted_by_paperbot_0_1_still_work(
    fake: FakeDiscord, make_discord_settings: Callable[..., Settings], core_for: Any
) -> None:
    def with_button(message: dict[str, Any], custom_id: str) -> dict[str, Any]:
        button = {"type": 2, "style": 2, "label": "More like #1", "custom_id": custom_id}
        return {**message, "components": [{"type": 1, "components": [button]}]}

    core: Core = core_for(make_discord_settings())
    async with running(core):
        answer = await ask(fake, command(fake, "search", {"query": "diffusion"}))
        paper = custom_ids(answer)[0].removeprefix("pb:mlt:")
        # A digest part's first button as 0.1 marked it, and a newer paperbot's button.
        marked = with_button(answer, f"pb:mlt:{paper}|231748a53273.0.2")
        similar = await ask(
            fake,
            fake.click(marked["components"][0]["components"][0]["custom_id"], marked,
                       guild_id=GUILD_A, channel_id=CHANNEL_A),
        )  # fmt: skip
        assert similar["content"].startswith("Papers like") and similar["embeds"]
        newer = with_button(answer, f"pb:love:{paper}")
        stale = await ask(
            fake,
            fake.click(f"pb:love:{paper}", newer, guild_id=GUILD_A, channel_id=CHANNEL_A),
        )
        assert stale["ephemeral"] and not stale["embeds"]
        assert stale["content"] == "That button is out of date. Run the command again."
    no_pings(fake)
