"""The link that adds paperbot to a Discord server, with exactly the permissions it uses."""

from __future__ import annotations

from urllib.parse import urlencode

import discord
import httpx

from paperbot.config import Settings
from paperbot.core.errors import ConfigError

AUTHORIZE_URL = "https://discord.com/oauth2/authorize"
SCOPES = ("bot", "applications.commands")
# Posting digests (view, send, embeds, also in threads), reading recent history to
# recognise a digest already posted before a crash, and opening a public thread per discussed
# paper (Create Public Threads; posting in it is Send Messages in Threads). Nothing else:
# reactions and thread replies arrive through the gateway without a permission of their own.
PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    create_public_threads=True,
    embed_links=True,
    read_message_history=True,
)


class InviteError(ConfigError):
    """Why no invite link can be made (shown to the user as is; exit 2: set or fix a setting)."""


def application_id(settings: Settings) -> int:
    """From PAPERBOT_DISCORD__APPLICATION_ID, else asked from the API with the bot token."""
    discord_settings = settings.discord
    if discord_settings.application_id is not None:
        return discord_settings.application_id
    if discord_settings.token is None:
        raise InviteError(
            "Set PAPERBOT_DISCORD__APPLICATION_ID (General Information page of your Discord"
            " application) or PAPERBOT_DISCORD__TOKEN."
        )
    url = discord_settings.api_base_url.rstrip("/") + "/oauth2/applications/@me"
    headers = {"Authorization": f"Bot {discord_settings.token.get_secret_value()}"}
    try:
        response = httpx.get(url, headers=headers, timeout=15)
    except httpx.HTTPError as exc:
        raise InviteError(f"Could not reach the Discord API: {type(exc).__name__}") from None
    if response.status_code == 401:
        raise InviteError("Discord rejected PAPERBOT_DISCORD__TOKEN (401).")
    if response.status_code != 200:
        raise InviteError(f"Discord answered {response.status_code} for the application.")
    try:
        return int(response.json()["id"])
    except (ValueError, KeyError, TypeError):
        raise InviteError("Discord's answer did not contain an application id.") from None


def invite_url(settings: Settings) -> str:
    query = {
        "client_id": str(application_id(settings)),
        "scope": " ".join(SCOPES),
        "permissions": str(PERMISSIONS.value),
        "integration_type": "0",
    }
    return f"{AUTHORIZE_URL}?{urlencode(query)}"
