"""OAuth installs in paperbot's database: slack_sdk's SQLAlchemy stores, tokens Fernet-encrypted."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine, String
from sqlalchemy.types import TypeDecorator

from paperbot.core.errors import ConfigError

# The columns of slack_sdk's tables that hold secrets (see migration 0002).
TOKEN_COLUMNS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")
KEY_HELP = (
    "PAPERBOT_SLACK__TOKEN_ENCRYPTION_KEY must be set for OAuth installs (tokens are encrypted"
    " at rest). Generate one with: python -c 'from cryptography.fernet import Fernet;"
    " print(Fernet.generate_key().decode())'"
)


class InstallationConfigError(ConfigError):
    """OAuth is configured but cannot work (missing or malformed encryption key)."""


def make_cipher(keys: str | None) -> MultiFernet:
    """A Fernet cipher from one key, or several comma-separated (the first encrypts: rotation)."""
    if not keys or not keys.strip():
        raise InstallationConfigError(KEY_HELP)
    try:
        return MultiFernet([Fernet(k.strip().encode()) for k in keys.split(",") if k.strip()])
    except (ValueError, TypeError):
        raise InstallationConfigError(
            "PAPERBOT_SLACK__TOKEN_ENCRYPTION_KEY is not a valid Fernet key. " + KEY_HELP
        ) from None


class EncryptedToken(TypeDecorator[str]):
    """A token column stored as Fernet ciphertext; plain text only in memory."""

    impl = String(1000)
    cache_ok = False  # holds a cipher, which has no stable cache key

    def __init__(self, cipher: MultiFernet) -> None:
        super().__init__()
        self.cipher = cipher

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        if value is None:
            return None
        return self.cipher.encrypt(value.encode()).decode()

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        if value is None:
            return None
        try:
            return self.cipher.decrypt(value.encode()).decode()
        except InvalidToken:
            # Wrong key (or a row written without encryption): treat as no token, never leak it.
            return None


class EncryptedInstallationStore(SQLAlchemyInstallationStore):
    """slack_sdk's SQLAlchemy installation store whose token columns are encrypted."""

    def __init__(self, client_id: str, engine: Engine, cipher: MultiFernet) -> None:
        super().__init__(client_id=client_id, engine=engine)
        token_type = EncryptedToken(cipher)
        for table in (self.installations, self.bots):
            for name in TOKEN_COLUMNS:
                if name in table.c:
                    table.c[name].type = token_type

    def bot_token(self, team_id: str) -> str | None:
        """The newest bot token installed in a workspace (for posting digests)."""
        bot = self.find_bot(enterprise_id=None, team_id=team_id)
        return bot.bot_token if bot is not None else None

    def installer(self, team_id: str) -> str | None:
        """The member who last installed paperbot in a workspace (told when nobody else is)."""
        found = self.find_installation(enterprise_id=None, team_id=team_id)
        return found.user_id if found is not None else None


class AsyncInstallationStoreAdapter(AsyncInstallationStore):
    """bolt's AsyncApp wants an async store: run the sync one in threads (one engine for all).

    `on_install(team_id)` runs after each install is saved (a reinstall resumes the team).
    """

    def __init__(
        self,
        store: SQLAlchemyInstallationStore,
        on_install: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self.on_install = on_install

    async def async_save(self, installation: Installation) -> None:
        await asyncio.to_thread(self.store.save, installation)
        if self.on_install is not None and installation.team_id:
            await asyncio.to_thread(self.on_install, installation.team_id)

    async def async_save_bot(self, bot: Bot) -> None:
        await asyncio.to_thread(self.store.save_bot, bot)

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        return await asyncio.to_thread(
            self.store.find_bot,
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        return await asyncio.to_thread(
            self.store.find_installation,
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
            is_enterprise_install=is_enterprise_install,
        )

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await asyncio.to_thread(self.store.delete_bot, enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        await asyncio.to_thread(
            self.store.delete_installation,
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
        )

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await asyncio.to_thread(self.store.delete_all, enterprise_id=enterprise_id, team_id=team_id)


class AsyncStateStoreAdapter(AsyncOAuthStateStore):
    """The OAuth state store (CSRF states) in paperbot's database, for bolt's AsyncApp."""

    def __init__(self, store: SQLAlchemyOAuthStateStore) -> None:
        self.store = store

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        return await asyncio.to_thread(self.store.issue)

    async def async_consume(self, state: str) -> bool:
        return await asyncio.to_thread(self.store.consume, state)


def build_stores(
    client_id: str, engine: Engine, keys: str | None, *, state_expiration: int = 600
) -> tuple[EncryptedInstallationStore, SQLAlchemyOAuthStateStore]:
    """The installation and state stores over paperbot's engine (tables from migration 0002)."""
    store = EncryptedInstallationStore(client_id, engine, make_cipher(keys))
    states = SQLAlchemyOAuthStateStore(expiration_seconds=state_expiration, engine=engine)
    return store, states
