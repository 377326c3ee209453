"""Feedback through the real bolt app against the fake Slack: like/dislike/discuss presses on a
posted digest, 👍/👎 reactions, thread replies, shared results, `/papers taste` and
`/papers roundup`, a restart between feedback and the next digest, two teams kept apart."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fakes.slack import (
    FakeSlack,
    block_kit_problems,
    mention_leaks,
    message_event,
    reaction_event,
    spec_problems,
)
from slack_harness import Served, serve, wait_for
from sqlalchemy import func, select

from paperbot.adapters.slack import buttons
from paperbot.adapters.slack.buttons import ACTION_DISCUSS, ACTION_DISLIKE, ACTION_LIKE
from paperbot.core.commands import Discuss, Vote
from paperbot.core.messages import ChannelRef
from paperbot.core.models import Channel, FeedbackSignal, FeedbackVote

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
REF = ChannelRef("slack", "T1", "C1")


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        fake.add_channel("C1", name="lab")
        fake.add_user("T1", "UADMIN", admin=True)
        fake.add_user("T1", "UPLAIN")
        fake.add_user("T1", "UOTHER")
        yield fake


@pytest.fixture
def slack_settings(make_settings: Any, slack: FakeSlack) -> Any:
    return make_settings(
        seed_sample_data=True,
        slack={"signing_secret": SECRET, "bot_token": "xoxb-test-token",
               "api_base_url": slack.api_url},
        hf={"enabled": False},
        arxiv={"enabled": False},
    )  # fmt: skip


@pytest.fixture
def now() -> datetime:
    # Presses run at the real time: papers are seeded then, so every digest has some.
    return datetime.now(UTC)


@pytest.fixture
async def served(slack_settings: Any, now: datetime) -> AsyncIterator[Served]:
    app = await serve(slack_settings, now=now)
    yield app
    await app.close()


def check(message: dict[str, Any], users: tuple[str, ...] = ()) -> None:
    assert not block_kit_problems(message), block_kit_problems(message)
    assert not mention_leaks(message, allowed_users=users), mention_leaks(message)


def digests(slack: FakeSlack, channel: str = "C1") -> list[dict[str, Any]]:
    """The digest messages (each part) the channel received, oldest first."""
    return [m for m in slack.messages.get(channel, []) if m.get("metadata")]


async def post_digest(app: Served, slack: FakeSlack, size: int = 5) -> list[Any]:
    """Set C1's digest up (as an admin: the day's trending papers, `size` of them) and post
    it now; the new digest messages."""
    before = len(digests(slack))
    await app.command(f"size {size}")
    assert (await app.command("digest")).status_code == 200
    await wait_for(lambda: len(digests(slack)) > before, timeout=15)
    await wait_for(lambda: _settled(slack), timeout=15)
    return digests(slack)[before:]


def _settled(slack: FakeSlack) -> bool:
    parts = digests(slack)
    if not parts:
        return False
    payload = parts[-1]["metadata"]["event_payload"]
    mine = [p for p in parts if p["metadata"]["event_payload"]["delivery"] == payload["delivery"]]
    return len(mine) == payload["parts"]


def paper_buttons(message: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(action_id, paper key) -> button, for every paper button of a message."""
    out = {}
    for block in message["blocks"]:
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            command = buttons.decode(element["value"])
            out[(element["action_id"], getattr(command, "paper", ""))] = element
    return out


def keys_of(message: dict[str, Any]) -> list[str]:
    return [key for (action, key) in paper_buttons(message) if action == ACTION_LIKE]


def press(
    slack: FakeSlack,
    message: dict[str, Any],
    action_id: str,
    key: str,
    name: str,
    *,
    user: str = "UPLAIN",
    team: str = "T1",
) -> dict[str, Any]:
    """block_actions as Slack sends it for a press on a message in channel C1."""
    button = paper_buttons(message)[(action_id, key)]
    return {
        "type": "block_actions",
        "team": {"id": team, "domain": "lab-team"},
        "user": {"id": user, "team_id": team},
        "channel": {"id": "C1", "name": "lab"},
        "container": {"type": "message", "message_ts": message["ts"], "channel_id": "C1",
                      "is_ephemeral": False},
        "message": {"type": "message", "ts": message["ts"], "text": message["text"]},
        "api_app_id": "A1",
        "token": "legacy",
        "trigger_id": "1.2",
        "actions": [{**button, "block_id": "b", "action_ts": "1"}],
        "response_url": slack.response_url(name),
    }  # fmt: skip


async def answer(app: Served, slack: FakeSlack, payload: dict[str, Any]) -> dict[str, Any]:
    """Send the press; the private answer posted to its response_url."""
    name = payload["response_url"].rsplit("/", 1)[1]
    started = time.monotonic()
    response = await app.interact(payload)
    assert response.status_code == 200 and time.monotonic() - started < 3
    await wait_for(lambda: any(c.path.endswith("/" + name) for c in slack.calls_to("response_url")))
    (call,) = [c for c in slack.calls_to("response_url") if c.path.endswith("/" + name)]
    assert call.args["response_type"] == "ephemeral" and call.args["replace_original"] is False
    check(call.args)
    return call.args


async def taste(app: Served, user: str = "UPLAIN", team: str = "T1") -> str:
    body = (await app.command("taste", user_id=user, team_id=team)).json()
    assert body["response_type"] == "ephemeral"
    return str(body["text"])


def channel_row(app: Served, team: str = "T1", channel: str = "C1") -> Channel | None:
    with app.core.session_factory() as session:
        return session.scalar(
            select(Channel).where(Channel.workspace == team, Channel.channel == channel)
        )


# --- the digest's buttons ----------------------------------------------------------------


async def test_every_paper_of_a_digest_carries_like_dislike_and_discuss(
    served: Served, slack: FakeSlack
) -> None:
    parts = await post_digest(served, slack)
    shown = [key for part in parts for key in keys_of(part)]
    assert shown and len(shown) == len(set(shown))
    for part in parts:
        check(part)
        assert len(part["blocks"]) <= 50
        found = paper_buttons(part)
        for key in keys_of(part):
            assert buttons.decode(found[(ACTION_LIKE, key)]["value"]) == Vote(key, "like")
            assert buttons.decode(found[(ACTION_DISLIKE, key)]["value"]) == Vote(key, "dislike")
            assert buttons.decode(found[(ACTION_DISCUSS, key)]["value"]) == Discuss(key)
    for call in slack.calls_to("chat.postMessage"):
        assert not spec_problems("chat.postMessage", call.args)


async def test_presses_are_answered_privately_and_post_nothing(
    served: Served, slack: FakeSlack
) -> None:
    part = (await post_digest(served, slack))[0]
    key = keys_of(part)[0]
    posts = len(slack.calls_to("chat.postMessage"))
    liked = await answer(served, slack, press(slack, part, ACTION_LIKE, key, "like"))
    assert liked["text"].startswith("👍") and "#lab" in liked["text"]
    again = await answer(served, slack, press(slack, part, ACTION_LIKE, key, "again"))
    assert "withdrawn" in again["text"]
    disliked = await answer(served, slack, press(slack, part, ACTION_DISLIKE, key, "dislike"))
    assert "👎" in disliked["text"]
    changed = await answer(served, slack, press(slack, part, ACTION_LIKE, key, "changed"))
    assert "Changed" in changed["text"]
    assert len(slack.calls_to("chat.postMessage")) == posts  # nothing in the channel
    assert "1" in await taste(served)


async def test_discuss_posts_the_paper_in_the_digest_thread_once(
    served: Served, slack: FakeSlack
) -> None:
    part = (await post_digest(served, slack))[0]
    first, second = keys_of(part)[:2]
    opened = await answer(served, slack, press(slack, part, ACTION_DISCUSS, first, "d1"))
    link = f"https://lab-team.slack.com/archives/C1/p{part['ts'].replace('.', '')}"
    assert "Posted it for discussion" in opened["text"] and link in json.dumps(opened["blocks"])
    (posted,) = slack.thread_replies("C1", part["ts"])
    check(posted)
    title = json.dumps(posted["blocks"])
    assert "Discuss this paper here" in title
    call = next(c for c in slack.calls_to("chat.postMessage") if c.args.get("thread_ts"))
    assert call.args["thread_ts"] == part["ts"] and not spec_problems("chat.postMessage", call.args)
    # A second press on the same paper points to the thread and posts nothing.
    pointed = await answer(
        served, slack, press(slack, part, ACTION_DISCUSS, first, "d2", user="UOTHER")
    )
    assert "The discussion is in" in pointed["text"] and link in json.dumps(pointed["blocks"])
    assert len(slack.thread_replies("C1", part["ts"])) == 1
    # Another paper of the same message is discussed in the same (one level deep) thread.
    await answer(served, slack, press(slack, part, ACTION_DISCUSS, second, "d3"))
    assert len(slack.thread_replies("C1", part["ts"])) == 2


async def test_two_presses_at_once_open_one_discussion(served: Served, slack: FakeSlack) -> None:
    part = (await post_digest(served, slack))[0]
    key = keys_of(part)[0]
    first = press(slack, part, ACTION_DISCUSS, key, "p1")
    second = press(slack, part, ACTION_DISCUSS, key, "p2", user="UOTHER")
    said = await asyncio.gather(answer(served, slack, first), answer(served, slack, second))
    assert len(slack.thread_replies("C1", part["ts"])) == 1
    assert sorted(a["text"].split(" ")[0] for a in said) == ["Posted", "The"]


# --- events --------------------------------------------------------------------------------


async def test_thread_replies_count_for_the_paper_last_posted_there(
    served: Served, slack: FakeSlack
) -> None:
    part = (await post_digest(served, slack))[0]
    first, second = keys_of(part)[:2]
    await answer(served, slack, press(slack, part, ACTION_DISCUSS, first, "d1"))
    await answer(served, slack, press(slack, part, ACTION_DISCUSS, second, "d2"))
    root = part["ts"]
    for i, user in enumerate(("UPLAIN", "UOTHER", "UADMIN")):
        reply = message_event("so good", user=user, channel="C1", ts=f"{root}{i}", thread_ts=root)
        started = time.monotonic()
        assert (await served.event(reply, f"EvR{i}")).status_code == 200
        assert time.monotonic() - started < 3
    # Not replies by people: the bot's own post, an edit, a thread's root, a channel message.
    ignored = [
        message_event("mine", user="UBOT", channel="C1", ts="9.1", thread_ts=root, bot_id="BBOT"),
        message_event("edit", user="UPLAIN", channel="C1", ts="9.2", thread_ts=root,
                      subtype="message_changed"),
        message_event("root", user="UPLAIN", channel="C1", ts=root, thread_ts=root),
        message_event("hello", user="UPLAIN", channel="C1", ts="9.3"),
    ]  # fmt: skip
    for i, event in enumerate(ignored):
        assert (await served.event(event, f"EvI{i}")).status_code == 200
    # Events are acked first and counted after: wait until the three replies are in.
    await wait_for(lambda: counts(served)[1] == 3, timeout=10)
    await asyncio.sleep(0.3)  # and nothing more arrives
    assert counts(served)[1] == 3
    roundup = await post_roundup(served, slack)
    text = json.dumps(roundup["blocks"], ensure_ascii=False)
    assert "3 replies" in text and text.index("3 replies") < text.index(part_title(part, first))


async def test_reactions_count_on_one_paper_messages_only(served: Served, slack: FakeSlack) -> None:
    part = (await post_digest(served, slack))[0]
    key = keys_of(part)[0]
    await answer(served, slack, press(slack, part, ACTION_DISCUSS, key, "d1"))
    (post,) = slack.thread_replies("C1", part["ts"])
    events = [
        reaction_event("+1::skin-tone-3", user="UPLAIN", channel="C1", ts=post["ts"]),
        reaction_event("thumbsup", user="UOTHER", channel="C1", ts=post["ts"]),
        reaction_event("thumbsdown", user="UADMIN", channel="C1", ts=post["ts"]),
        reaction_event("-1", user="UADMIN", channel="C1", ts=post["ts"], added=False),
        reaction_event("+1", user="UBOT", channel="C1", ts=post["ts"]),  # paperbot's own
        reaction_event("tada", user="UPLAIN", channel="C1", ts=post["ts"]),
        # The digest message shows several papers: a 👍 there says nothing about one of them.
        reaction_event("+1", user="UADMIN", channel="C1", ts=part["ts"]),
    ]
    for i, event in enumerate(events):
        started = time.monotonic()
        assert (await served.event(event, f"EvX{i}")).status_code == 200
        assert time.monotonic() - started < 3
    # A removal withdraws: the 👎 above is gone, two 👍 stay (counted in arrival order).
    await wait_for(lambda: counts(served)[0] == 2, timeout=10)
    await asyncio.sleep(0.3)
    assert votes(served) == [1, 1]


def counts(app: Served) -> tuple[int, int]:
    """(votes, thread replies) the database holds, over every channel."""
    with app.core.session_factory() as session:
        n_votes = session.scalar(select(func.count()).select_from(FeedbackVote)) or 0
        replies = session.scalar(
            select(func.count()).select_from(FeedbackSignal).where(FeedbackSignal.kind == "reply")
        )
        return n_votes, replies or 0


def votes(app: Served) -> list[int]:
    with app.core.session_factory() as session:
        return sorted(session.scalars(select(FeedbackVote.value)))


# --- shares, taste, roundup ------------------------------------------------------------------


async def share_search(app: Served, slack: FakeSlack, query: str) -> dict[str, Any]:
    """A member searches, then presses "Share in channel": the message posted in C1."""
    search = (await app.command(f"search {query}", user_id="UPLAIN")).json()
    share = next(
        e for b in search["blocks"] if b["type"] == "actions" for e in b["elements"]
        if e["action_id"] == buttons.ACTION_SHARE
    )  # fmt: skip
    payload = {
        "type": "block_actions",
        "team": {"id": "T1", "domain": "lab-team"},
        "user": {"id": "UPLAIN", "team_id": "T1"},
        "channel": {"id": "C1", "name": "lab"},
        "container": {"type": "message", "is_ephemeral": True, "channel_id": "C1"},
        "api_app_id": "A1",
        "token": "legacy",
        "trigger_id": "1.2",
        "actions": [{**share, "block_id": "b", "action_ts": "1"}],
        "response_url": slack.response_url("share"),
    }
    before = len(slack.messages.get("C1", []))
    assert (await app.interact(payload)).status_code == 200
    await wait_for(lambda: len(slack.messages.get("C1", [])) > before)
    return slack.messages["C1"][-1]


async def test_a_shared_result_is_posted_with_buttons_and_counts(
    served: Served, slack: FakeSlack
) -> None:
    await post_digest(served, slack)
    shared = await share_search(served, slack, "learning")
    check(shared, users=("UPLAIN",))
    assert "Shared by <@UPLAIN>" in json.dumps(shared["blocks"])
    assert keys_of(shared)  # like, dislike, discuss on each shared paper
    await wait_for(
        lambda: any(c.args.get("delete_original") for c in slack.calls_to("response_url"))
    )
    # Shared results go out with chat.postMessage, never as a response_url message.
    assert not [
        c for c in slack.calls_to("response_url") if c.args.get("response_type") == "in_channel"
    ]
    # A discussion of a shared paper threads under the shared message.
    key = keys_of(shared)[0]
    await answer(served, slack, press(slack, shared, ACTION_DISCUSS, key, "d1"))
    assert len(slack.thread_replies("C1", shared["ts"])) == 1


async def test_taste_and_roundup_through_slack(served: Served, slack: FakeSlack) -> None:
    part = (await post_digest(served, slack))[0]
    key = keys_of(part)[0]
    await answer(served, slack, press(slack, part, ACTION_LIKE, key, "like"))
    assert "1" in await taste(served)
    refused = (await served.command("taste reset", user_id="UPLAIN")).json()
    assert "admin" in refused["text"]
    weekly = (await served.command("roundup weekly fri 16:00 Europe/Paris")).json()
    assert weekly["response_type"] == "in_channel", weekly
    off = (await served.command("roundup off", user_id="UPLAIN")).json()
    assert "admin" in off["text"]
    roundup = await post_roundup(served, slack)
    check(roundup)
    assert part_title(part, key) in json.dumps(roundup["blocks"], ensure_ascii=False)
    forgot = (await served.command("taste reset")).json()
    assert "Forgot" in forgot["text"]


async def post_roundup(app: Served, slack: FakeSlack) -> dict[str, Any]:
    before = len(slack.messages["C1"])
    body = (await app.command("roundup")).json()
    assert "error" not in body.get("text", "").lower(), body
    await wait_for(lambda: len(slack.messages["C1"]) > before, timeout=15)
    return slack.messages["C1"][before]


def part_title(part: dict[str, Any], key: str) -> str:
    """The title a digest part shows for one of its papers (as rendered, escaped)."""
    blocks = part["blocks"]
    for i, block in enumerate(blocks):
        if block["type"] == "actions" and any(
            getattr(buttons.decode(e["value"]), "paper", None) == key for e in block["elements"]
        ):
            text = blocks[i - 1]["text"]["text"]
            return text.split("|", 1)[1].split(">*", 1)[0] if "|" in text else text.split("\n")[0]
    raise AssertionError(key)


# --- failures, restarts, teams --------------------------------------------------------------


async def test_a_missing_scope_is_told_to_the_presser_and_pauses_nothing(
    served: Served, slack: FakeSlack
) -> None:
    part = (await post_digest(served, slack))[0]
    key = keys_of(part)[0]
    slack.inject("chat.postMessage", error="missing_scope")
    said = await answer(served, slack, press(slack, part, ACTION_DISCUSS, key, "d1"))
    assert "missing_scope" in said["text"] and "reinstall" in said["text"]
    assert slack.thread_replies("C1", part["ts"]) == []
    row = channel_row(served)
    assert row is not None and not row.paused
    # The press can be tried again once the scope is there.
    await answer(served, slack, press(slack, part, ACTION_DISCUSS, key, "d2"))
    assert len(slack.thread_replies("C1", part["ts"])) == 1


async def test_feedback_outlives_a_restart_and_shapes_the_next_digest(
    slack_settings: Any, slack: FakeSlack, now: datetime
) -> None:
    app = await serve(slack_settings, now=now)
    try:
        await app.command("size 5")
        shared = await share_search(app, slack, "language model reasoning")
        liked = keys_of(shared)[:3]
        for key in liked:
            for user in ("UPLAIN", "UOTHER"):
                name = f"{user}-{key}"
                await answer(app, slack, press(slack, shared, ACTION_LIKE, key, name, user=user))
    finally:
        await app.close()
    again = await serve(slack_settings, now=now)  # a new bolt app and core on the same database
    try:
        assert "6" in await taste(again)
        nxt = await post_digest(again, slack)
        whys = json.dumps([p["blocks"] for p in nxt], ensure_ascii=False)
        assert "liked:" in whys
    finally:
        await again.close()


async def test_two_teams_are_kept_apart(served: Served, slack: FakeSlack) -> None:
    part = (await post_digest(served, slack))[0]
    key = keys_of(part)[0]
    # Team T2 has a channel with the same id: its press and reaction are its own.
    said = await answer(served, slack, press(slack, part, ACTION_LIKE, key, "t2", team="T2"))
    assert "👍" not in said["text"]  # T2's channel gets no digest: nothing to teach
    event = reaction_event("+1", user="UPLAIN", channel="C1", ts=part["ts"])
    assert (await served.event(event, "EvT2", team="T2")).status_code == 200
    await asyncio.sleep(0.3)
    assert counts(served) == (0, 0)  # nothing reached T1's channel (nor any other)
    mine = await answer(served, slack, press(slack, part, ACTION_LIKE, key, "t1"))
    assert mine["text"].startswith("👍")
    await wait_for(lambda: counts(served) == (1, 0))
