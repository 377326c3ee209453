"""Many workspaces: the OAuth install flow, encrypted tokens, and uninstall/revoke in any order."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.fernet import Fernet
from fakes.slack import FakeSlack
from slack_harness import SECRET, Served, serve, wait_for
from sqlalchemy import select, text

from paperbot.adapters.slack.adapter import SlackConfigError
from paperbot.adapters.slack.installation import InstallationConfigError
from paperbot.core.models import Channel

KEY = Fernet.generate_key().decode()


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        fake.add_installable_team()
        yield fake


@pytest.fixture
def oauth_settings(make_settings: Any, slack: FakeSlack) -> Any:
    return make_settings(
        seed_sample_data=True,
        slack={
            "signing_secret": SECRET,
            "client_id": "111.222",
            "client_secret": "client-secret",
            "token_encryption_key": KEY,
            "api_base_url": slack.api_url,
            "authorize_url": f"{slack.url}/oauth/v2/authorize",
        },
    )


@pytest.fixture
async def served(oauth_settings: Any, now: datetime) -> AsyncIterator[Served]:
    app = await serve(oauth_settings, now=now)
    yield app
    await app.close()


async def install(app: Served) -> None:
    page = await app.http.get(f"{app.url}/slack/install")
    assert page.status_code == 200
    cookie = page.headers["set-cookie"].split(";", 1)[0]
    # bolt marks the state cookie Secure; this plain-http test forwards it by hand.
    location = html.unescape(page.text.split('<a href="', 1)[1].split('"', 1)[0])
    assert location.startswith(f"{app.url.rsplit(':', 1)[0]}")
    query = parse_qs(urlsplit(location).query)
    assert query["client_id"] == ["111.222"]
    assert "commands" in query["scope"][0]
    state = query["state"][0]
    done = await app.http.get(
        f"{app.url}/slack/oauth_redirect",
        params={"code": "code-1", "state": state},
        headers={"Cookie": cookie},
    )
    assert done.status_code == 200, done.text


def channel(app: Served) -> Channel | None:
    with app.core.session_factory() as session:
        return session.scalar(select(Channel).where(Channel.workspace == "T2"))


async def test_install_stores_encrypted_token_and_serves_that_workspace(
    served: Served, slack: FakeSlack
) -> None:
    await install(served)
    assert served.adapter.store is not None
    assert served.adapter.store.bot_token("T2") == "xoxb-team2-secret"
    with served.core.engine.connect() as conn:
        stored = conn.execute(text("SELECT bot_token FROM slack_bots WHERE team_id='T2'")).all()
    assert stored and all("secret" not in row[0] for row in stored)
    body = (
        await served.command(
            "subscribe diffusion", team_id="T2", channel_id="C2", user_id="UADMIN2"
        )
    ).json()
    assert body["response_type"] == "in_channel", body
    assert {c.token for c in slack.calls_to("conversations.info")} == {"xoxb-team2-secret"}


@pytest.mark.parametrize(
    "order", [("app_uninstalled", "tokens_revoked"), ("tokens_revoked", "app_uninstalled")]
)
async def test_uninstall_and_revoke_in_either_order(served: Served, order: tuple[str, str]) -> None:
    await install(served)
    await served.command("subscribe diffusion", team_id="T2", channel_id="C2", user_id="UADMIN2")
    events = {
        "app_uninstalled": {"type": "app_uninstalled"},
        "tokens_revoked": {"type": "tokens_revoked", "tokens": {"bot": ["UBOT2"]}},
    }
    for i, name in enumerate(order):
        response = await served.event(events[name], f"Ev{i}", team="T2")
        assert response.status_code == 200
    store = served.adapter.store
    assert store is not None
    await wait_for(lambda: store.bot_token("T2") is None)
    await wait_for(lambda: (row := channel(served)) is not None and row.paused)
    await install(served)  # they add paperbot again: the digest resumes
    await wait_for(lambda: (row := channel(served)) is not None and not row.paused)


async def test_unknown_workspace_gets_no_answer_from_another(served: Served) -> None:
    await install(served)
    response = await served.command("list", team_id="T3", channel_id="C2", user_id="UADMIN2")
    assert "diffusion" not in response.text
    assert channel(served) is None


def test_oauth_without_encryption_key_is_refused(make_settings: Any, now: datetime) -> None:
    from paperbot.adapters.slack.adapter import SlackAdapter
    from paperbot.bootstrap import build_core

    settings = make_settings(slack={"signing_secret": SECRET, "client_id": "1.2"})
    core = build_core(settings, now=now)
    try:
        with pytest.raises(InstallationConfigError, match="TOKEN_ENCRYPTION_KEY"):
            SlackAdapter(core.service, settings, core.engine)
        with pytest.raises(SlackConfigError, match="SIGNING_SECRET"):
            SlackAdapter(core.service, make_settings(slack={"bot_token": "xoxb-1"}), core.engine)
    finally:
        core.close()


def test_manifest_asks_for_what_the_code_uses() -> None:
    from pathlib import Path

    from paperbot.adapters.slack.adapter import BOT_SCOPES, EVENTS_PATH, REDIRECT_PATH
    from paperbot.adapters.slack.engagement import EVENTS as ENGAGEMENT
    from paperbot.adapters.slack.inbound import BACK_EVENTS, CHANNEL_EVENTS

    manifest = (Path(__file__).parents[3] / "config" / "slack-manifest.yml").read_text()
    scopes = manifest.split("    bot:\n", 1)[1].split("settings:", 1)[0]
    listed = {line.split("#")[0].strip(" -") for line in scopes.splitlines()} - {""}
    assert listed == set(BOT_SCOPES)
    events = manifest.split("bot_events:", 1)[1].split("interactivity:", 1)[0]
    for name in (
        "app_uninstalled",
        "tokens_revoked",
        "member_joined_channel",
        *CHANNEL_EVENTS,
        *BACK_EVENTS,
        *(e for e in ENGAGEMENT if e != "message"),
        "message.channels",  # the "message" event in public and private channels
        "message.groups",
    ):
        assert f"- {name}" in events
    assert "command: /papers" in manifest
    assert manifest.count(EVENTS_PATH) == 3 and REDIRECT_PATH in manifest
