"""The real Slack adapter in Socket Mode, over a real websocket to a fake Slack, on a real store."""

from __future__ import annotations

import asyncio
import html
import json
import signal
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import cli_helpers
import pytest
from cli_helpers import cli_env, paperbot
from cryptography.fernet import Fernet
from fakes.slack import FakeSlack, block_kit_problems, mention_leaks
from fakes.slack_socket import Ack, FakeSocketMode
from slack_harness import HOSTILE, command_body, serve, wait_for
from sqlalchemy import select

from paperbot.adapters.slack import render
from paperbot.adapters.slack.adapter import SlackAdapter, SlackConfigError
from paperbot.bootstrap import Core, add_platform_adapters, build_core, stop_adapters
from paperbot.core.models import Channel

APP_TOKEN = "xapp-1-A1-1111-0123456789abcdef"
BOT_TOKEN = "xoxb-test-token"
SLACK_ACK_DEADLINE = 3.0  # Slack shows the user an error when an envelope is not acked by then


@pytest.fixture
def socket_mode(slack: FakeSlack) -> Iterator[FakeSocketMode]:
    with FakeSocketMode() as fake:
        slack.serve_socket_mode(APP_TOKEN, fake.issue_url)
        yield fake


@dataclass
class Bot:
    core: Core
    adapter: SlackAdapter
    slack: FakeSlack
    socket: FakeSocketMode

    async def command(self, text: str, **kw: str) -> Ack:
        body = {**command_body(text, response_url=self.slack.response_url("cmd")), **kw}
        envelope = await self.socket.push("slash_commands", body, accepts_response_payload=True)
        return await self.socket.ack(envelope, timeout=SLACK_ACK_DEADLINE)

    async def click(self, button: dict[str, Any], user: str = "UPLAIN") -> Ack:
        payload = {
            "type": "block_actions",
            "team": {"id": "T1", "domain": "test"},
            "user": {"id": user, "team_id": "T1"},
            "channel": {"id": "C1", "name": "general"},
            "container": {"type": "message", "is_ephemeral": True, "channel_id": "C1"},
            "api_app_id": "A1",
            "token": "legacy",
            "trigger_id": "1.2",
            "response_url": self.slack.response_url(button["action_id"]),
            "actions": [{**button, "block_id": "b", "action_ts": "1"}],
        }
        envelope = await self.socket.push("interactive", payload)
        return await self.socket.ack(envelope, timeout=SLACK_ACK_DEADLINE)

    async def event(self, event: dict[str, Any], event_id: str, retry_attempt: int = 0) -> Ack:
        payload = {
            "token": "legacy",
            "team_id": "T1",
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": event,
        }
        envelope = await self.socket.push(
            "events_api", payload, retry_attempt=retry_attempt, retry_reason=""
        )
        return await self.socket.ack(envelope, timeout=SLACK_ACK_DEADLINE)

    def channel_row(self, channel: str = "C1") -> Channel | None:
        with self.core.session_factory() as session:
            return session.scalar(
                select(Channel).where(Channel.workspace == "T1", Channel.channel == channel)
            )


async def start_bot(
    make_settings: Any, slack: FakeSlack, socket: FakeSocketMode, now: datetime, **overrides: Any
) -> Bot:
    values = {
        "app_token": APP_TOKEN,
        "bot_token": BOT_TOKEN,
        "api_base_url": slack.api_url,
        **overrides,
    }
    settings = make_settings(seed_sample_data=True, slack=values)
    core = await asyncio.to_thread(build_core, settings, now=now, seed=True)
    add_platform_adapters(core)
    (adapter,) = core.adapters
    assert isinstance(adapter, SlackAdapter) and adapter.socket_mode
    try:
        await adapter.start()
    except BaseException:
        await stop_adapters(core)
        core.close()
        raise
    return Bot(core, adapter, slack, socket)


@pytest.fixture
async def bot(
    make_settings: Any, slack: FakeSlack, socket_mode: FakeSocketMode, now: datetime
) -> AsyncIterator[Bot]:
    started = await start_bot(make_settings, slack, socket_mode, now)
    yield started
    await stop_adapters(started.core)
    started.core.close()


def check_message(message: dict[str, Any] | None, allowed: tuple[str, ...] = ()) -> None:
    assert message is not None
    assert not block_kit_problems(message), block_kit_problems(message)
    assert not mention_leaks(message, allowed), mention_leaks(message, allowed)


def buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["action_id"]: e for b in message["blocks"] if b["type"] == "actions"
            for e in b["elements"]}  # fmt: skip


async def test_connects_with_the_app_token_and_answers_search_in_the_ack(bot: Bot) -> None:
    (opened,) = bot.slack.calls_to("apps.connections.open")
    assert opened.token == APP_TOKEN
    connection = await bot.socket.wait_connections(1)
    assert connection.received == []  # the hello needs no answer
    ack = await bot.command("search diffusion")
    assert ack.connection is connection
    assert ack.payload is not None and ack.payload["response_type"] == "ephemeral"
    check_message(ack.payload)
    assert "diffusion" in json.dumps(ack.payload["blocks"]).lower()
    assert render.ACTION_SHARE in buttons(ack.payload)


async def test_hostile_text_comes_back_escaped(bot: Bot) -> None:
    ack = await bot.command(f"search {HOSTILE}")
    check_message(ack.payload)
    assert ack.payload is not None
    assert "&lt;!channel&gt;" in json.dumps(ack.payload["blocks"])
    unknown = await bot.command("frobnicate <!here>")
    check_message(unknown.payload)
    assert unknown.payload is not None and "Unknown command" in unknown.payload["text"]


async def test_slow_answers_are_acked_then_posted_to_response_url(
    make_settings: Any, slack: FakeSlack, socket_mode: FakeSocketMode, now: datetime
) -> None:
    bot = await start_bot(make_settings, slack, socket_mode, now, ack_budget_seconds=0)
    try:
        ack = await bot.command("search graph neural")
        assert ack.payload is None
        await wait_for(lambda: slack.calls_to("response_url"))
        (call,) = slack.calls_to("response_url")
        assert call.args["response_type"] == "ephemeral"
        check_message(call.args)
    finally:
        await stop_adapters(bot.core)
        bot.core.close()


async def test_admin_subscribes_and_others_are_refused(bot: Bot) -> None:
    refused = await bot.command("subscribe diffusion", user_id="UPLAIN")
    assert refused.payload is not None and refused.payload["response_type"] == "ephemeral"
    assert "admins" in refused.payload["text"]
    assert bot.channel_row() is None
    confirmed = await bot.command(f"subscribe diffusion {HOSTILE}")
    assert confirmed.payload is not None and confirmed.payload["response_type"] == "in_channel"
    assert "Subscribed" in confirmed.payload["text"]
    check_message(confirmed.payload)
    row = bot.channel_row()
    assert row is not None and not row.paused
    listed = await bot.command("list", user_id="UPLAIN")
    assert listed.payload is not None and "diffusion" in listed.payload["text"]


async def test_buttons_are_acked_and_answered_through_response_url(bot: Bot) -> None:
    search = await bot.command("search learning")
    assert search.payload is not None
    found = buttons(search.payload)
    more = await bot.click(found[render.ACTION_MORE])
    share = await bot.click(found[render.ACTION_SHARE])
    assert more.payload is None and share.payload is None
    # Share posts to the channel (chat.postMessage: a message reactions can refer to), then
    # deletes the ephemeral original.
    await wait_for(lambda: len(bot.slack.calls_to("response_url")) >= 2)
    await wait_for(lambda: bot.slack.calls_to("chat.postMessage"))
    posts = bot.slack.calls_to("response_url")
    similar = [c for c in posts if c.path.endswith(render.ACTION_MORE)]
    assert similar and similar[0].args["response_type"] == "ephemeral"
    check_message(similar[0].args)
    (shared,) = bot.slack.calls_to("chat.postMessage")
    assert shared.args["channel"] == "C1"
    check_message(shared.args, allowed=("UPLAIN",))
    deleted = [c for c in posts if c.path.endswith(render.ACTION_SHARE)]
    assert [c.args.get("delete_original") for c in deleted] == [True]


async def test_app_uninstalled_pauses_the_workspace_and_retries_are_ignored(bot: Bot) -> None:
    await bot.command("subscribe diffusion")
    ack = await bot.event({"type": "app_uninstalled"}, "Ev1")
    assert ack.payload is None
    await wait_for(lambda: (row := bot.channel_row()) is not None and row.paused)
    row = bot.channel_row()
    assert row is not None and row.pause_reason and "uninstalled" in row.pause_reason
    with bot.core.session_factory.begin() as session:
        session.get(Channel, row.id).paused = False  # type: ignore[union-attr]
    # A redelivered envelope is acked again but must not act twice.
    await bot.event({"type": "app_uninstalled"}, "Ev1", retry_attempt=1)
    await asyncio.sleep(0.3)
    again = bot.channel_row()
    assert again is not None and not again.paused


@pytest.mark.parametrize("how", ["close frame", "disconnect message"])
async def test_reconnects_with_a_new_url_and_keeps_answering(bot: Bot, how: str) -> None:
    first = await bot.socket.wait_connections(1)
    if how == "close frame":
        await bot.socket.drop()
    else:
        await bot.socket.send_raw({"type": "disconnect", "reason": "refresh_requested"})
    second = await bot.socket.wait_connections(2)
    assert second is not first and second.ticket != first.ticket
    assert len(bot.slack.calls_to("apps.connections.open")) == 2
    await wait_for(lambda: not first.open)
    assert bot.socket.open_connections() == [second]
    ack = await bot.command("search diffusion")
    assert ack.connection is second
    check_message(ack.payload)


def socket_client_tasks() -> list[asyncio.Task[Any]]:
    """The socket client's running loops (message processor, receiver, monitor)."""
    return [
        t
        for t in asyncio.all_tasks()
        if not t.done() and "SocketModeClient." in getattr(t.get_coro(), "__qualname__", "")
    ]


async def test_stop_closes_the_socket_and_its_tasks(bot: Bot) -> None:
    connection = await bot.socket.wait_connections(1)
    assert socket_client_tasks()
    await bot.adapter.stop()
    assert socket_client_tasks() == []
    await wait_for(lambda: not connection.open)
    assert connection.close_code == 1000
    await bot.adapter.stop()  # stopping twice is harmless
    await asyncio.sleep(0.2)
    assert len(bot.slack.calls_to("apps.connections.open")) == 1
    assert bot.socket.open_connections() == []


@pytest.mark.parametrize("fault", [{"status": 500}, {"error": "internal_error"}])
async def test_a_slack_hiccup_at_start_is_retried(
    make_settings: Any,
    slack: FakeSlack,
    socket_mode: FakeSocketMode,
    now: datetime,
    fault: dict[str, Any],
) -> None:
    slack.inject("apps.connections.open", **fault)
    bot = await start_bot(make_settings, slack, socket_mode, now)
    try:
        await socket_mode.wait_connections(1)
        assert len(slack.calls_to("apps.connections.open")) == 2
        check_message((await bot.command("search diffusion")).payload)
    finally:
        await stop_adapters(bot.core)
        bot.core.close()


@pytest.mark.parametrize(
    ("token", "error"),
    [("xapp-1-A1-9999-not-ours", "invalid_auth"), (BOT_TOKEN, "not_allowed_token_type")],
)
async def test_a_refused_app_token_is_a_clear_error(
    make_settings: Any,
    slack: FakeSlack,
    socket_mode: FakeSocketMode,
    now: datetime,
    token: str,
    error: str,
) -> None:
    with pytest.raises(SlackConfigError) as raised:
        await asyncio.wait_for(
            start_bot(make_settings, slack, socket_mode, now, app_token=token), timeout=10
        )
    message = str(raised.value)
    assert "PAPERBOT_SLACK__APP_TOKEN" in message and error in message
    assert token not in message
    assert socket_mode.connections == []


# -- many workspaces (OAuth installs) over Socket Mode -------------------------------------------


async def test_oauth_installs_are_served_over_socket_mode(
    make_settings: Any, slack: FakeSlack, socket_mode: FakeSocketMode, now: datetime
) -> None:
    slack.add_installable_team()
    settings = make_settings(
        seed_sample_data=True,
        slack={
            "app_token": APP_TOKEN,
            "client_id": "111.222",
            "client_secret": "client-secret",
            "token_encryption_key": Fernet.generate_key().decode(),
            "api_base_url": slack.api_url,
            "authorize_url": f"{slack.url}/oauth/v2/authorize",
        },
    )
    served = await serve(settings, now=now)
    try:
        await served.adapter.start()
        # No public URL for events, but the browser still needs the install pages.
        assert (await served.http.post(f"{served.url}/slack/events")).status_code == 404
        page = await served.http.get(f"{served.url}/slack/install")
        assert page.status_code == 200, page.text
        cookie = page.headers["set-cookie"].split(";", 1)[0]
        location = html.unescape(page.text.split('<a href="', 1)[1].split('"', 1)[0])
        state = parse_qs(urlsplit(location).query)["state"][0]
        done = await served.http.get(
            f"{served.url}/slack/oauth_redirect",
            params={"code": "code-1", "state": state},
            headers={"Cookie": cookie},
        )
        assert done.status_code == 200, done.text

        body = command_body("subscribe diffusion", team_id="T2", channel_id="C2", user_id="UADMIN2")
        envelope = await socket_mode.push("slash_commands", body, accepts_response_payload=True)
        ack = await socket_mode.ack(envelope, timeout=SLACK_ACK_DEADLINE)
        assert ack.payload is not None and ack.payload["response_type"] == "in_channel", ack
        assert {c.token for c in slack.calls_to("conversations.info")} == {"xoxb-team2-secret"}
        event = {
            "team_id": "T2",
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": "EvT2",
            "event_time": int(time.time()),
            "event": {"type": "app_uninstalled"},
        }
        await socket_mode.ack(await socket_mode.push("events_api", event))
        store = served.adapter.store
        assert store is not None
        await wait_for(lambda: store.bot_token("T2") is None)
    finally:
        await served.close()


# -- `paperbot run` in Socket Mode, as a user starts it ------------------------------------------


def socket_env(url: str, tmp_path: Path, slack: FakeSlack, app_token: str) -> dict[str, str]:
    return cli_env(
        url,
        tmp_path,
        PAPERBOT_SLACK__APP_TOKEN=app_token,
        PAPERBOT_SLACK__BOT_TOKEN=BOT_TOKEN,
        PAPERBOT_SLACK__API_BASE_URL=slack.api_url,
        PAPERBOT_SEED_SAMPLE_DATA="true",  # papers to search (default: none beside Slack)
    )


def test_paperbot_run_serves_socket_mode_and_stops_on_sigterm(
    slack: FakeSlack, socket_mode: FakeSocketMode, database_url: str, tmp_path: Path
) -> None:
    env = socket_env(database_url, tmp_path, slack, APP_TOKEN)
    proc = cli_helpers.start_bot(env=env, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 30
        while not socket_mode.open_connections():
            assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline, "paperbot did not connect"
            time.sleep(0.05)
        (connection,) = socket_mode.open_connections()

        async def command(text: str) -> Ack:
            body = command_body(text, response_url=slack.response_url("cmd"))
            envelope = await socket_mode.push("slash_commands", body, accepts_response_payload=True)
            return await socket_mode.ack(envelope, timeout=SLACK_ACK_DEADLINE)

        found = asyncio.run(command("search diffusion")).payload
        check_message(found)
        assert found is not None and "diffusion" in json.dumps(found["blocks"]).lower()
        hostile = asyncio.run(command(f"search {HOSTILE}")).payload
        check_message(hostile)
        assert "&lt;!channel&gt;" in json.dumps(hostile)
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert connection.close_code == 1000
    assert "Traceback" not in err
    assert APP_TOKEN not in err and BOT_TOKEN not in err


def test_paperbot_run_with_a_refused_app_token_says_what_to_fix(
    slack: FakeSlack, socket_mode: FakeSocketMode, sqlite_url: str, tmp_path: Path
) -> None:
    wrong = "xapp-1-A1-9999-not-ours"
    done = paperbot("run", env=socket_env(sqlite_url, tmp_path, slack, wrong), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "PAPERBOT_SLACK__APP_TOKEN" in done.stderr and "invalid_auth" in done.stderr
    assert "Traceback" not in done.stderr and wrong not in done.stderr
    assert socket_mode.connections == []
