"""Settings: built-in defaults < config/paperbot.toml < .env < PAPERBOT_* env < arguments."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_USER_AGENT = "paperbot/0.1 (+https://github.com/paperbot/paperbot)"


def split_list(value: Any) -> Any:
    """Accept a JSON list or a comma-separated string for list settings."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return []
        if text.startswith("["):
            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    if isinstance(value, int):
        return [value]
    return value


StrList = Annotated[list[str], NoDecode]
IntList = Annotated[list[int], NoDecode]


class _ListsModel(BaseModel):
    @field_validator("*", mode="before")
    @classmethod
    def _lists(cls, value: Any, info: Any) -> Any:
        field = cls.model_fields.get(info.field_name)
        if field is not None and str(field.annotation).startswith("list"):
            return split_list(value)
        return value


class HttpSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 3000


class HFSettings(BaseModel):
    enabled: bool = True
    base_url: str = "https://huggingface.co"
    days_back: int = Field(
        3, ge=1, le=30, description="recent days re-fetched so upvotes keep growing"
    )
    catch_up_days: int = Field(14, ge=1, le=90, description="longest gap of missed days caught up")
    page_size: int = Field(100, ge=1, le=100)
    max_pages: int = Field(10, ge=1, le=100)
    interval_minutes: int = Field(60, ge=1)


class ArxivSettings(_ListsModel):
    enabled: bool = True
    rss_base_url: str = "https://rss.arxiv.org"
    api_base_url: str = "https://export.arxiv.org"
    categories: StrList = Field(default_factory=lambda: ["cs.LG", "cs.CL", "cs.AI", "cs.CV"])
    min_interval_seconds: float = Field(3.0, ge=0.0, description="arXiv asks one request per 3 s")
    announce_types: StrList = Field(
        default_factory=lambda: ["new", "cross", "replace", "replace-cross"],
        description="announcement feed entries kept (new, cross-lists, replacements)",
    )
    api_max_results: int = Field(100, ge=1, le=2000)
    interval_minutes: int = Field(180, ge=1)


class SourceHttpSettings(BaseModel):
    timeout_seconds: float = Field(20.0, gt=0)
    user_agent: str = DEFAULT_USER_AGENT
    max_attempts: int = Field(4, ge=1, le=10)
    max_backoff_seconds: float = Field(60.0, ge=0)
    backoff_base_seconds: float = Field(1.0, ge=0, description="first retry wait, doubled each try")


class RankingSettings(BaseModel):
    """Weights of the trending score (see paperbot.core.ranking for the formula)."""

    upvote_weight: float = 1.0
    comment_weight: float = 0.5
    star_weight: float = 0.05
    growth_weight: float = 2.0
    half_life_hours: float = Field(default=36.0, gt=0)
    topic_weight: float = 1.0
    # Base score of every paper before decay, so papers without signals rank by recency.
    recency_weight: float = Field(default=1.0, ge=0)
    growth_window_hours: float = Field(default=24.0, gt=0, description="span growth is measured on")
    extra_topic_bonus: float = Field(default=0.1, ge=0, description="bonus per extra topic")


class DigestSettings(BaseModel):
    default_time: str = "09:00"
    default_zone: str = "UTC"
    default_days: str = "daily"
    default_size: int = Field(5, ge=1, le=20)
    max_size: int = Field(20, ge=1, le=50)
    lookback_days: int = Field(3, ge=1, le=30)
    max_lookback_days: int = Field(14, ge=1, le=60)
    grace_hours: float = Field(6.0, ge=0)
    lease_seconds: int = Field(120, ge=10)
    max_attempts: int = Field(8, ge=1)
    tick_seconds: float = Field(60.0, gt=0, description="how often `paperbot run` delivers")


class SearchSettings(BaseModel):
    """Hybrid search: the sentence model, its embeddings, and how topics match by meaning."""

    semantic: bool = Field(True, description="embed papers and queries; false: lexical only")
    model_path: Path | None = Field(
        None, description="an ONNX sentence model (per-token output) instead of the bundled one"
    )
    tokenizer_path: Path | None = Field(
        None, description="its tokenizer.json (needed with model_path)"
    )
    max_tokens: int = Field(256, ge=16, le=512, description="tokens embedded per passage")
    threads: int = Field(1, ge=1, le=16, description="onnxruntime threads for embedding")
    embed_batch: int = Field(16, ge=1, le=256, description="passages per model call")
    backfill_seconds: float = Field(
        240.0, gt=0, description="longest embedding run per ingest tick (the rest waits)"
    )
    exact_limit: int = Field(
        50_000, ge=0, description="up to this many papers vectors are searched exactly"
    )
    topic_threshold: float = Field(
        0.45, ge=0.0, le=1.0, description="relevance (0..1) a paper needs to match a topic"
    )


class PermissionSettings(BaseModel):
    # "managers": platform admins, channel managers and the allow-lists may change a channel;
    # "anyone": every member may (small private groups).
    channel_changes: Literal["managers", "anyone"] = "managers"


class RetentionSettings(BaseModel):
    snapshot_days: int = Field(30, ge=1)
    removed_channel_days: int = Field(30, ge=0)


class ConsoleSettings(BaseModel):
    # One JSON line per posted digest part (shared by processes: appended with O_APPEND).
    transcript: Path | None = None


class SlackSettings(_ListsModel):
    bot_token: SecretStr | None = None
    app_token: SecretStr | None = None
    signing_secret: SecretStr | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    token_encryption_key: SecretStr | None = None
    api_base_url: str = "https://slack.com/api/"
    admins: StrList = Field(default_factory=list)
    # Slack waits 3 s for the ack: answers ready sooner go in it, later ones via response_url.
    ack_budget_seconds: float = Field(2.0, ge=0, le=2.8)
    command: str = Field("/papers", description="the slash command's name in the app manifest")
    admin_cache_seconds: float = Field(600.0, ge=0, description="how long users.info is trusted")
    # Where "Add to Slack" sends the browser (OAuth installs); a setting for tests and mirrors.
    authorize_url: str = "https://slack.com/oauth/v2/authorize"

    @property
    def configured(self) -> bool:
        return bool(self.bot_token or self.client_id)


class DiscordSettings(_ListsModel):
    token: SecretStr | None = None
    application_id: int | None = None
    api_base_url: str = "https://discord.com/api/v10"
    gateway_url: str = "wss://gateway.discord.gg"
    guild_ids: IntList = Field(default_factory=list)
    shard_count: int | Literal["auto"] | None = None
    shard_ids: IntList = Field(default_factory=list)
    # discord.py waits out 429s up to this long (it must be >= 30 s), then delivery retries.
    max_ratelimit_timeout: float = Field(30.0, ge=30.0, le=600.0)
    send_timeout_seconds: float = Field(60.0, gt=0, description="per message sent over REST")

    @property
    def configured(self) -> bool:
        return self.token is not None


class ConfigError(ValueError):
    """Settings that cannot work together; the message says what to set."""


def _config_file() -> Path:
    return Path(os.environ.get("PAPERBOT_CONFIG", "config/paperbot.toml"))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PAPERBOT_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
    )

    database_url: str = "sqlite:///paperbot.db"
    index_dir: Path | None = None
    seed_sample_data: bool = True
    log_level: str = "INFO"
    instance_id: str | None = None
    http: HttpSettings = Field(default_factory=HttpSettings)
    source_http: SourceHttpSettings = Field(default_factory=SourceHttpSettings)
    hf: HFSettings = Field(default_factory=HFSettings)
    arxiv: ArxivSettings = Field(default_factory=ArxivSettings)
    ranking: RankingSettings = Field(default_factory=RankingSettings)
    digest: DigestSettings = Field(default_factory=DigestSettings)
    permissions: PermissionSettings = Field(default_factory=PermissionSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    search: SearchSettings = Field(default_factory=SearchSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    discord: DiscordSettings = Field(default_factory=DiscordSettings)
    console: ConsoleSettings = Field(default_factory=ConsoleSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=_config_file())
        return (init_settings, env_settings, dotenv_settings, toml, file_secret_settings)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def resolved_index_dir(self) -> Path:
        """The tantivy folder: beside the SQLite file, or one per PostgreSQL database."""
        if self.index_dir is not None:
            return self.index_dir
        from sqlalchemy.engine import make_url

        url = make_url(self.database_url)
        if self.is_sqlite and url.database and url.database != ":memory:":
            db = Path(url.database)
            return db.with_name(db.name + ".index")
        name = url.database or "memory"
        host = (url.host or "local").replace(":", "_")
        return Path("paperbot-index") / f"{url.get_backend_name()}-{host}-{url.port or ''}-{name}"
