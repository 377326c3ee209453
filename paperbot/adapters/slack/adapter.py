"""SlackAdapter: builds the bolt app (HTTP or Socket Mode, one or many workspaces) and the port."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import Engine
from starlette.routing import BaseRoute, Route

from paperbot.adapters.slack.errors import WORKSPACE
from paperbot.adapters.slack.guard import SlackRequestGuard
from paperbot.adapters.slack.inbound import SlackCommands
from paperbot.adapters.slack.installation import (
    AsyncInstallationStoreAdapter,
    AsyncStateStoreAdapter,
    EncryptedInstallationStore,
    build_stores,
)
from paperbot.adapters.slack.platform import SlackPlatform
from paperbot.config import ConfigError, Settings
from paperbot.core.service import Paperbot

log = logging.getLogger(__name__)

# Keep in step with config/slack-manifest.yml.
BOT_SCOPES = (
    "commands",
    "chat:write",
    "users:read",
    "channels:read",
    "groups:read",
    "channels:history",
    "groups:history",
    "im:write",
    "reactions:read",
)
EVENTS_PATH = "/slack/events"
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
# How long start() waits for the first Socket Mode connection before going on without it.
CONNECT_WAIT_SECONDS = 15.0
# apps.connections.open errors that no retry will fix.
APP_TOKEN_ERRORS = {
    "not_authed",
    "invalid_auth",
    "not_allowed_token_type",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "missing_scope",
}


class SlackConfigError(ConfigError):
    """Slack settings that cannot work together; the message says what to set."""


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


def _bounds(settings: Settings) -> tuple[float, float]:
    """Request timeout and inline 429 waits such that one message (3 tries, 2 waits) always
    ends within the send budget, so a delivery's lease outlives every post it starts."""
    budget = settings.digest.send_budget_seconds
    timeout = min(10.0, budget / 3)
    return timeout, max(0.0, (budget - 3 * timeout) / 2)


class SlackAdapter:
    """What bootstrap needs: the sync `platform`, HTTP `routes()`, and `start`/`stop`."""

    def __init__(self, service: Paperbot, settings: Settings, engine: Engine) -> None:
        """`engine`: paperbot's database, where slack_sdk's stores keep OAuth installs (bootstrap
        passes it in: the adapter opens no database of its own)."""
        slack = settings.slack
        self.settings = settings
        self.socket_mode = slack.app_token is not None
        signing_secret = _secret(slack.signing_secret)
        if not self.socket_mode and not signing_secret:
            raise SlackConfigError(
                "Slack HTTP mode needs PAPERBOT_SLACK__SIGNING_SECRET (Basic Information page of"
                " your Slack app), or set PAPERBOT_SLACK__APP_TOKEN for Socket Mode."
            )
        self.service = service
        self.commands = SlackCommands(service, settings)
        self.store: EncryptedInstallationStore | None = None
        bot_token = _secret(slack.bot_token)
        client = AsyncWebClient(
            token=None if slack.client_id else bot_token,
            base_url=slack.api_base_url,
            retry_handlers=[AsyncConnectionErrorRetryHandler(), AsyncRateLimitErrorRetryHandler()],
        )
        common: dict[str, Any] = {
            "name": "paperbot",
            "signing_secret": signing_secret or "",
            "client": client,
            "process_before_response": False,
        }
        if slack.client_id:
            self.store, states = build_stores(
                slack.client_id, engine, _secret(slack.token_encryption_key)
            )
            oauth = AsyncOAuthSettings(
                client_id=slack.client_id,
                client_secret=_secret(slack.client_secret),
                scopes=list(BOT_SCOPES),
                install_path=INSTALL_PATH,
                redirect_uri_path=REDIRECT_PATH,
                authorization_url=slack.authorize_url,
                installation_store=AsyncInstallationStoreAdapter(
                    self.store, on_install=lambda team: service.workspace_back("slack", team)
                ),
                installation_store_bot_only=True,
                state_store=AsyncStateStoreAdapter(states),
            )
            self.app = AsyncApp(oauth_settings=oauth, **common)
            self.commands.on_workspace_gone = self._forget_workspace
            timeout, wait = _bounds(settings)
            self.platform = SlackPlatform(
                slack,
                self.store.bot_token,
                installer=self.store.installer,
                timeout=timeout,
                max_inline_wait=wait,
            )
        elif bot_token:
            self.app = AsyncApp(**common)
            timeout, wait = _bounds(settings)
            self.platform = SlackPlatform(
                slack, lambda _team: bot_token, single=True, timeout=timeout, max_inline_wait=wait
            )
        else:
            raise SlackConfigError(
                "Set PAPERBOT_SLACK__BOT_TOKEN (one workspace) or PAPERBOT_SLACK__CLIENT_ID,"
                " PAPERBOT_SLACK__CLIENT_SECRET and PAPERBOT_SLACK__TOKEN_ENCRYPTION_KEY (OAuth)."
            )
        self.commands.register(self.app)
        self.handler = AsyncSlackRequestHandler(self.app)
        self.guard = SlackRequestGuard(signing_secret or "", self.handler.handle)
        self._socket: Any = None
        self._connecting: asyncio.Task[None] | None = None

    async def _forget_workspace(self, enterprise_id: str | None, team_id: str) -> None:
        """Delete a workspace's tokens (app_uninstalled / tokens_revoked, in either order)."""
        if self.store is None:
            return
        store = self.store
        await asyncio.to_thread(store.delete_all, enterprise_id=enterprise_id, team_id=team_id)
        if enterprise_id is not None:
            # Rows saved before the workspace joined an org have no enterprise id.
            await asyncio.to_thread(store.delete_all, enterprise_id=None, team_id=team_id)

    def routes(self) -> list[BaseRoute]:
        routes: list[BaseRoute] = []
        if not self.socket_mode:
            routes.append(Route(EVENTS_PATH, self.guard.handle, methods=["POST"]))
        if self.store is not None:
            # Socket Mode carries events, not the browser's trip through Slack's OAuth pages.
            routes += [
                Route(INSTALL_PATH, self.handler.handle, methods=["GET"]),
                Route(REDIRECT_PATH, self.handler.handle, methods=["GET"]),
            ]
        return routes

    async def start(self) -> None:
        """Check a single-workspace bot token; Socket Mode: check the app token, then connect
        (returns once connected, or still trying)."""
        await self._check_bot_token()
        if not self.socket_mode:
            return
        from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

        app_token = _secret(self.settings.slack.app_token)
        handler = AsyncSocketModeHandler(self.app, app_token)
        self._socket = handler
        try:
            # The socket client retries a refused token forever, so start() would never return:
            # ask for the first URL ourselves and turn a refusal into a clear error.
            opened = await self.app.client.apps_connections_open(app_token=app_token or "")
            handler.client.wss_uri = str(opened["url"])
        except SlackApiError as exc:
            error = str(exc.response.get("error") or exc.response.status_code)
            if error in APP_TOKEN_ERRORS:
                await self.stop()
                raise SlackConfigError(
                    f"Slack refused PAPERBOT_SLACK__APP_TOKEN ({error}): use an app-level token"
                    " (xapp-...) with the connections:write scope, from Basic Information ->"
                    " App-Level Tokens, and turn Socket Mode on for the app."
                ) from None
            log.warning("slack: apps.connections.open failed (%s); retrying", error)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.warning("slack: cannot reach Slack (%s); retrying", type(exc).__name__)
        self._connecting = asyncio.create_task(handler.connect_async(), name="slack-socket-mode")
        done, _ = await asyncio.wait({self._connecting}, timeout=CONNECT_WAIT_SECONDS)
        if done:
            log.info("slack: connected in Socket Mode")
        else:
            log.warning(
                "slack: Socket Mode not connected after %.0f s; still trying", CONNECT_WAIT_SECONDS
            )

    async def _check_bot_token(self) -> None:
        """A refused deployment token is a configuration error at start (exit 2); a working
        one ends any pause a refusal caused before."""
        token = _secret(self.settings.slack.bot_token)
        if not token or self.settings.slack.client_id:
            return
        try:
            await self.app.client.auth_test(token=token)
        except SlackApiError as exc:
            error = str(exc.response.get("error") or exc.response.status_code)
            if error in WORKSPACE:
                raise SlackConfigError(
                    f"Slack refused PAPERBOT_SLACK__BOT_TOKEN ({error}): copy the Bot User OAuth"
                    " Token (xoxb-...) again from the app's OAuth & Permissions page."
                ) from None
            log.warning("slack: auth.test failed (%s); going on", error)
            return
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.warning("slack: cannot reach Slack to check the token (%s)", type(exc).__name__)
            return
        await asyncio.to_thread(self.service.workspace_back, "slack", "*")

    async def stop(self) -> None:
        if self._connecting is not None:
            self._connecting.cancel()
            await asyncio.gather(self._connecting, return_exceptions=True)
            self._connecting = None
        if self._socket is not None:
            client = self._socket.client
            await self._socket.close_async()
            self._socket = None
            # close() only cancels the client's loops; wait for them so none outlives stop().
            loops = [client.message_processor, client.current_session_monitor]
            loops.append(client.message_receiver)
            await asyncio.gather(*(f for f in loops if f is not None), return_exceptions=True)
