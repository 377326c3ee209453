"""`paperbot discord invite-url` and the Discord settings read from the environment."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from discord_harness import settings_for
from fakes.discord import FakeDiscord

from paperbot.adapters.discord.invite import InviteError, invite_url
from paperbot.config import Settings

# View Channel, Send Messages, Embed Links, Read Message History, Send Messages in Threads.
EXPECTED_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 16) | (1 << 35) | (1 << 38)


def query(url: str) -> dict[str, list[str]]:
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://discord.com/oauth2/authorize"
    return parse_qs(parts.query)


def test_invite_url_from_the_configured_application_id() -> None:
    settings = Settings(_env_file=None, discord={"application_id": 1234})  # type: ignore[call-arg]
    found = query(invite_url(settings))
    assert found["client_id"] == ["1234"]
    assert found["scope"] == ["bot applications.commands"]
    assert found["permissions"] == [str(EXPECTED_PERMISSIONS)]


async def test_invite_url_asks_the_api_for_the_application_id(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    settings = settings_for(fake, "sqlite://", tmp_path)
    found = query(await asyncio.to_thread(invite_url, settings))
    assert found["client_id"] == [str(fake.application_id)]
    [request] = fake.requests
    assert request.route == "/oauth2/applications/@me"
    bad = settings_for(fake, "sqlite://", tmp_path, token="nope-secret")
    with pytest.raises(InviteError, match="rejected") as caught:
        await asyncio.to_thread(invite_url, bad)
    assert "nope-secret" not in str(caught.value)


def test_invite_url_without_credentials_says_what_to_set() -> None:
    with pytest.raises(InviteError, match="PAPERBOT_DISCORD__APPLICATION_ID"):
        invite_url(Settings(_env_file=None))  # type: ignore[call-arg]


def test_discord_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERBOT_DISCORD__TOKEN", "t0k")
    monkeypatch.setenv("PAPERBOT_DISCORD__GUILD_IDS", "[1, 2]")
    monkeypatch.setenv("PAPERBOT_DISCORD__SHARD_COUNT", "auto")
    monkeypatch.setenv("PAPERBOT_DISCORD__SHARD_IDS", "0,1")
    monkeypatch.setenv("PAPERBOT_DISCORD__API_BASE_URL", "http://127.0.0.1:9/api/v10")
    discord = Settings(_env_file=None).discord  # type: ignore[call-arg]
    assert discord.configured and discord.guild_ids == [1, 2] and discord.shard_ids == [0, 1]
    assert discord.shard_count == "auto" and discord.api_base_url.startswith("http://127.0.0.1")
    assert "t0k" not in repr(discord)
    monkeypatch.setenv("PAPERBOT_DISCORD__GUILD_IDS", "3, 4")
    monkeypatch.setenv("PAPERBOT_DISCORD__SHARD_COUNT", "4")
    discord = Settings(_env_file=None).discord  # type: ignore[call-arg]
    assert discord.guild_ids == [3, 4] and discord.shard_count == 4
