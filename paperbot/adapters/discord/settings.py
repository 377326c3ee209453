"""The Discord adapter's settings (PAPERBOT_DISCORD__*): a plain pydantic model, no discord.py.

paperbot.config composes it into Settings as `discord` and validates it at load with the rest;
shard ids against the shard count are checked when the adapter is built (adapter.check_shards).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, SecretStr
from pydantic_settings import NoDecode

from paperbot.config_types import HttpUrl, Section, WsUrl


class DiscordSettings(Section):
    token: SecretStr | None = None
    application_id: int | None = Field(None, ge=1)
    api_base_url: HttpUrl = "https://discord.com/api/v10"
    gateway_url: WsUrl = "wss://gateway.discord.gg"
    guild_ids: Annotated[list[Annotated[int, Field(ge=1)]], NoDecode] = Field(default_factory=list)
    shard_count: Annotated[int, Field(ge=1)] | Literal["auto"] | None = None
    shard_ids: Annotated[list[Annotated[int, Field(ge=0)]], NoDecode] = Field(default_factory=list)
    # discord.py waits out 429s up to this long (it must be >= 30 s), then delivery retries.
    max_ratelimit_timeout: float = Field(30.0, ge=30.0, le=600.0)
    send_timeout_seconds: float = Field(
        60.0, gt=0, le=600, description="per message sent over REST"
    )

    @property
    def configured(self) -> bool:
        """A bot token: paperbot serves Discord."""
        return self.token is not None


__all__ = ["DiscordSettings"]
