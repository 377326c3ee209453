"""The Slack adapter's settings (PAPERBOT_SLACK__*): a plain pydantic model, no Slack SDK.

paperbot.config composes it into Settings as `slack` and validates it at load with the rest.
"""

from __future__ import annotations

from pydantic import Field, SecretStr

from paperbot.config_types import HttpUrl, Section, Word, WordList

DAY_SECONDS = 86_400.0


class SlackSettings(Section):
    bot_token: SecretStr | None = None
    app_token: SecretStr | None = None
    signing_secret: SecretStr | None = None
    client_id: Word | None = None
    client_secret: SecretStr | None = None
    token_encryption_key: SecretStr | None = None
    api_base_url: HttpUrl = "https://slack.com/api/"
    admins: WordList = Field(default_factory=list)
    # Slack waits 3 s for the ack: answers ready sooner go in it, later ones via response_url.
    ack_budget_seconds: float = Field(2.0, ge=0, le=2.8)
    command: str = Field(
        "/papers",
        pattern=r"^/[a-z0-9_-]{1,31}$",
        description="the slash command's name in the app manifest",
    )
    admin_cache_seconds: float = Field(
        600.0, ge=0, le=DAY_SECONDS, description="how long users.info is trusted"
    )
    # Where "Add to Slack" sends the browser (OAuth installs); a setting for tests and mirrors.
    authorize_url: HttpUrl = "https://slack.com/oauth/v2/authorize"
    # conversations.history allows non-Marketplace apps about 1 call a minute per workspace.
    history_interval_seconds: float = Field(
        60.0, ge=0, le=3600, description="least time between reconciliation reads per workspace"
    )

    @property
    def configured(self) -> bool:
        """A bot token (one workspace) or an OAuth client id (many): paperbot serves Slack."""
        return bool(self.bot_token or self.client_id)


__all__ = ["SlackSettings"]
