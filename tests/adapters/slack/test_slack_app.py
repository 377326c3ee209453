"""The real bolt app over HTTP: signed slash commands, buttons and events, against a fake Slack."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any

import pytest
from fakes.slack import FakeSlack, block_kit_problems, mention_leaks, spec_problems
from slack_harness import HOSTILE, Served, command_body, serve, sign, wait_for
from sqlalchemy import select

from paperbot.adapters.slack import render
from paperbot.core.messages import ChannelRef
from paperbot.core.models import Channel


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        fake.add_channel("C1")
        fake.add_channel("COUT", is_member=False)
        fake.add_user("T1", "UADMIN", admin=True)
        fake.add_user("T1", "UOWNER", owner=True)
        fake.add_user("T1", "UPLAIN")
        fake.add_user("T1", "UALLOWED")
        yield fake


@pytest.fixture
def slack_settings(make_settings: Any, slack: FakeSlack) -> Any:
    def make(**slack_overrides: Any) -> Any:
        values = {
            "signing_secret": "8f742231b10e8888abcd99yyyzzz85a5",
            "bot_token": "xoxb-test-token",
            "api_base_url": slack.api_url,
            "admins": ["UALLOWED"],
            **slack_overrides,
        }
        return make_settings(seed_sample_data=True, slack=values)

    return make


@pytest.fixture
async def served(slack_settings: Any, now: datetime) -> AsyncIterator[Served]:
    app = await serve(slack_settings(), now=now)
    yield app
    await app.close()


def channel_row(app: Served, team: str = "T1", channel: str = "C1") -> Channel | None:
    with app.core.session_factory() as session:
        return session.scalar(
            select(Channel).where(Channel.workspace == team, Channel.channel == channel)
        )


def click(slack: FakeSlack, action_id: str, value: str | None, name: str) -> dict[str, Any]:
    """A block_actions payload: a member clicks a button (answered at response_url `name`)."""
    action = {"action_id": action_id, "block_id": "b", "action_ts": "1"}
    if value is not None:
        action["value"] = value
    return {
        "type": "block_actions",
        "team": {"id": "T1", "domain": "test"},
        "user": {"id": "UPLAIN", "team_id": "T1"},
        "channel": {"id": "C1", "name": "general"},
        "api_app_id": "A1",
        "token": "legacy",
        "trigger_id": "1.2",
        "actions": [action],
        "response_url": slack.response_url(name),
    }


def check_message(message: dict[str, Any]) -> None:
    assert not block_kit_problems(message), block_kit_problems(message)
    assert not mention_leaks(message), mention_leaks(message)


async def test_search_is_answered_in_the_ack_with_buttons(served: Served) -> None:
    started = time.monotonic()
    response = await served.command("search federated learning")
    assert time.monotonic() - started < 3
    assert response.status_code == 200
    body = response.json()
    assert body["response_type"] == "ephemeral"
    check_message(body)
    assert "federated" in json.dumps(body["blocks"]).lower()
    actions = [
        e["action_id"] for b in body["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert render.ACTION_SHARE in actions
    assert render.ACTION_MORE in actions


async def test_hostile_search_text_is_echoed_literally(served: Served) -> None:
    response = await served.command(f"search {HOSTILE}")
    body = response.json()
    check_message(body)
    assert "&lt;!channel&gt;" in body["blocks"][0]["text"]["text"]


async def test_unknown_command_is_a_friendly_ephemeral_error(served: Served) -> None:
    body = (await served.command("frobnicate <!here>")).json()
    check_message(body)
    assert body["response_type"] == "ephemeral"
    assert "Unknown command" in body["text"]


async def test_slow_answers_go_through_response_url(
    slack_settings: Any, slack: FakeSlack, now: datetime
) -> None:
    app = await serve(slack_settings(ack_budget_seconds=0), now=now)
    try:
        response = await app.command("search graph neural", response_url=slack.response_url("s1"))
        assert response.status_code == 200 and response.content == b""
        await wait_for(lambda: slack.calls_to("response_url"))
        (call,) = slack.calls_to("response_url")
        assert call.path == "/response/s1"
        assert call.args["response_type"] == "ephemeral"
        check_message(call.args)
    finally:
        await app.close()


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ({}, "missing"),
        (
            {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=00"},
            "wrong",
        ),
        ("stale", "stale"),
        ("other-secret", "forged"),
    ],
)
async def test_bad_signatures_get_401_and_change_nothing(
    served: Served, slack: FakeSlack, headers: Any, why: str
) -> None:
    from urllib.parse import urlencode

    body = urlencode(command_body("subscribe diffusion")).encode()
    if headers == "stale":
        headers = sign(body, timestamp=int(time.time()) - 6 * 60)
    elif headers == "other-secret":
        headers = sign(body, secret="not-the-secret")
    response = await served.post(
        body, content_type="application/x-www-form-urlencoded", headers=headers
    )
    assert response.status_code == 401, why
    assert channel_row(served) is None
    assert slack.calls == []


async def test_admin_subscribes_and_is_confirmed_in_channel(served: Served) -> None:
    body = (await served.command(f"subscribe diffusion {HOSTILE}")).json()
    assert body["response_type"] == "in_channel"
    check_message(body)
    assert "Subscribed" in body["text"]
    row = channel_row(served)
    assert row is not None
    listed = (await served.command("list", user_id="UPLAIN")).json()
    assert "diffusion" in listed["text"]
    assert listed["response_type"] == "ephemeral"


@pytest.mark.parametrize("user", ["UADMIN", "UOWNER", "UALLOWED"])
async def test_admins_owners_and_allow_list_may_change_a_channel(served: Served, user: str) -> None:
    body = (await served.command("schedule 08:30 Europe/Berlin weekdays", user_id=user)).json()
    assert body["response_type"] == "in_channel", body
    row = channel_row(served)
    assert row is not None and row.digest_time == "08:30" and row.timezone == "Europe/Berlin"


async def test_others_are_refused_but_may_search(served: Served) -> None:
    body = (await served.command("subscribe diffusion", user_id="UPLAIN")).json()
    assert body["response_type"] == "ephemeral"
    assert "admins" in body["text"]
    assert channel_row(served) is None
    search = (await served.command("search diffusion", user_id="UPLAIN")).json()
    assert search["response_type"] == "ephemeral"


async def test_subscribing_where_the_bot_is_not_asks_for_an_invite(served: Served) -> None:
    body = (await served.command("subscribe diffusion", channel_id="COUT")).json()
    assert "invite @paperbot first" in body["text"]
    assert channel_row(served, channel="COUT") is None


async def test_direct_messages_search_but_refuse_channel_changes(served: Served) -> None:
    dm = {"channel_id": "D1", "channel_name": "directmessage"}
    body = (await served.command("subscribe diffusion", **dm)).json()
    assert "direct message" in body["text"]
    assert channel_row(served, channel="D1") is None
    assert (await served.command("search diffusion", **dm)).json()["response_type"] == "ephemeral"


async def test_workspaces_do_not_see_each_others_channels(served: Served) -> None:
    await served.command("subscribe diffusion")
    other = (await served.command("list", team_id="T2")).json()
    assert "diffusion" not in other["text"]
    assert channel_row(served, team="T2") is None


async def test_digest_now_posts_escaped_valid_block_kit(served: Served, slack: FakeSlack) -> None:
    await served.command("subscribe learning")
    response = await served.command("digest")
    assert response.status_code == 200
    await wait_for(lambda: slack.calls_to("chat.postMessage"), timeout=10)
    for call in slack.calls_to("chat.postMessage"):
        assert call.token == "xoxb-test-token"
        assert not spec_problems("chat.postMessage", call.args)
        check_message(call.args)
        assert call.args["metadata"]["event_type"] == "paperbot_digest"


async def test_paused_channel_says_why_to_the_next_caller(served: Served) -> None:
    await served.command("subscribe diffusion")
    served.core.service.channel_gone(
        ChannelRef("slack", "T1", "C1"), "the channel was archived", now=datetime.now().astimezone()
    )
    body = (await served.command("list", user_id="UPLAIN")).json()
    assert "paused" in body["text"].lower() and "archived" in json.dumps(body["blocks"])


async def test_uninstall_pauses_channels_and_retries_are_ignored(served: Served) -> None:
    await served.command("subscribe diffusion")
    response = await served.event({"type": "app_uninstalled"}, "Ev1")
    assert response.status_code == 200
    await wait_for(lambda: (row := channel_row(served)) is not None and row.paused)
    row = channel_row(served)
    assert row is not None and row.pause_reason and "uninstalled" in row.pause_reason
    with served.core.session_factory.begin() as session:
        session.get(Channel, row.id).paused = False  # type: ignore[union-attr]
    # Slack retries an event it thinks failed: the same event id must not act twice.
    assert (await served.event({"type": "app_uninstalled"}, "Ev1")).status_code == 200
    await asyncio.sleep(0.3)
    again = channel_row(served)
    assert again is not None and not again.paused


async def test_buttons_page_share_and_find_similar(served: Served, slack: FakeSlack) -> None:
    search = (await served.command("search learning")).json()
    buttons = {e["action_id"]: e for b in search["blocks"] if b["type"] == "actions"
               for e in b["elements"]}  # fmt: skip
    base = {
        "type": "block_actions",
        "team": {"id": "T1", "domain": "test"},
        "user": {"id": "UPLAIN", "team_id": "T1"},
        "channel": {"id": "C1", "name": "general"},
        "container": {"type": "message", "is_ephemeral": True, "channel_id": "C1"},
        "api_app_id": "A1",
        "token": "legacy",
        "trigger_id": "1.2",
    }
    for action_id in (render.ACTION_NEXT, render.ACTION_SHARE, render.ACTION_MORE):
        if action_id not in buttons:
            continue
        action = {**buttons[action_id], "block_id": "b", "action_ts": "1"}
        payload = {**base, "actions": [action], "response_url": slack.response_url(action_id)}
        response = await served.interact(payload)
        assert response.status_code == 200
    # Share posts with chat.postMessage (a message reactions and threads can refer to), then
    # deletes the ephemeral original through response_url.
    expected = 2 + (render.ACTION_NEXT in buttons)
    await wait_for(lambda: len(slack.calls_to("response_url")) >= expected)
    await wait_for(lambda: slack.calls_to("chat.postMessage"))
    posts = {c.path.rsplit("/", 1)[1]: c for c in slack.calls_to("response_url")}
    (share,) = slack.calls_to("chat.postMessage")
    assert share.args["channel"] == "C1" and not spec_problems("chat.postMessage", share.args)
    assert posts[render.ACTION_SHARE].args["delete_original"] is True
    assert not block_kit_problems(share.args)
    assert not mention_leaks(share.args, allowed_users=("UPLAIN",))
    more = posts[render.ACTION_MORE]
    assert more.args["response_type"] == "ephemeral" and more.args["replace_original"] is False
    if render.ACTION_NEXT in posts:
        assert posts[render.ACTION_NEXT].args["replace_original"] is True


async def test_a_stale_button_is_acked_and_explained(served: Served, slack: FakeSlack) -> None:
    payload = click(slack, "paperbot_retired_button", None, "stale")
    assert (await served.interact(payload)).status_code == 200
    await wait_for(lambda: slack.calls_to("response_url"))
    (call,) = slack.calls_to("response_url")
    assert "no longer works" in call.args["text"]


async def test_buttons_posted_by_paperbot_0_1_still_work(served: Served, slack: FakeSlack) -> None:
    # Exactly as 0.1 wrote them (json.dumps with spaces and \u escapes).
    old_next = json.dumps({"cmd": "search", "q": "learning", "p": 2})
    old_more = json.dumps({"cmd": "more-like-this", "paper": "2401.00001"})
    tampered = json.dumps({"cmd": "search", "q": "learning", "p": 99})
    for action_id, value, name in (
        (render.ACTION_NEXT, old_next, "next"),
        (render.ACTION_MORE, old_more, "more"),
        (render.ACTION_NEXT, tampered, "tampered"),
    ):
        assert (await served.interact(click(slack, action_id, value, name))).status_code == 200
    await wait_for(lambda: len(slack.calls_to("response_url")) >= 3)
    posts = {c.path.rsplit("/", 1)[1]: c.args for c in slack.calls_to("response_url")}
    assert "learning" in posts["next"]["text"] and posts["next"]["replace_original"] is True
    assert "out of date" not in posts["more"]["text"]
    assert posts["tampered"]["text"] == "That button is out of date. Run the command again."
    assert posts["tampered"]["response_type"] == "ephemeral"
    for args in posts.values():
        check_message(args)
