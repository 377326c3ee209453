"""Settings: built-in defaults < config/paperbot.toml < .env < PAPERBOT_* env < arguments.

Every value is validated when the settings load (see config_types); `load_settings` turns a
refusal into a ConfigError with one line per bad setting (config_errors). The core's sections
are here; each chat platform's (`slack`, `discord`) lives with its adapter, in
paperbot/adapters/<platform>/settings.py, and is composed here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

# Each platform's section lives with its adapter (plain models, importing no SDK).
from paperbot.adapters.discord.settings import DiscordSettings
from paperbot.adapters.slack.settings import SlackSettings
from paperbot.config_types import (
    ClockTime,
    DatabaseUrl,
    Days,
    HttpUrl,
    LogLevel,
    Section,
    SeedPolicy,
    Text,
    Word,
    Zone,
    from_text,
    seed_policy,
)
from paperbot.core.errors import ConfigError
from paperbot.core.limits import DIGEST_SIZE

DEFAULT_USER_AGENT = "paperbot/0.1 (+https://github.com/paperbot/paperbot)"
DEFAULT_CONFIG_FILE = Path("config/paperbot.toml")
DAY_SECONDS = 86_400.0


class HttpSettings(Section):
    host: Word = "127.0.0.1"
    port: int = Field(3000, ge=1, le=65535)


class HFSettings(Section):
    enabled: bool = True
    base_url: HttpUrl = "https://huggingface.co"
    days_back: int = Field(
        3, ge=1, le=30, description="recent days re-fetched so upvotes keep growing"
    )
    catch_up_days: int = Field(14, ge=1, le=90, description="longest gap of missed days caught up")
    page_size: int = Field(100, ge=1, le=100)
    max_pages: int = Field(10, ge=1, le=100)
    interval_minutes: int = Field(60, ge=1, le=10_080)


ARXIV_CATEGORY = r"^[a-z][a-z-]*(\.[A-Za-z][A-Za-z-]*)?$"
AnnounceType = Literal["new", "cross", "replace", "replace-cross"]


class ArxivSettings(Section):
    enabled: bool = True
    rss_base_url: HttpUrl = "https://rss.arxiv.org"
    api_base_url: HttpUrl = "https://export.arxiv.org"
    categories: Annotated[
        list[Annotated[str, Field(pattern=ARXIV_CATEGORY, max_length=40)]], NoDecode
    ] = Field(default_factory=lambda: ["cs.LG", "cs.CL", "cs.AI", "cs.CV"])
    min_interval_seconds: float = Field(
        3.0, ge=0.0, le=60.0, description="arXiv asks one request per 3 s"
    )
    announce_types: Annotated[list[AnnounceType], NoDecode] = Field(
        default_factory=lambda: list(get_args(AnnounceType)),
        description="announcement feed entries kept (new, cross-lists, replacements)",
    )
    api_max_results: int = Field(100, ge=1, le=2000)
    interval_minutes: int = Field(180, ge=1, le=10_080)


class SourceHttpSettings(Section):
    timeout_seconds: float = Field(20.0, gt=0, le=600)
    user_agent: Text = DEFAULT_USER_AGENT
    max_attempts: int = Field(4, ge=1, le=10)
    max_backoff_seconds: float = Field(60.0, ge=0, le=3600)
    backoff_base_seconds: float = Field(
        1.0, ge=0, le=600, description="first retry wait, doubled each try"
    )
    # timeout_seconds bounds each read; these bound a whole request and a whole source run, so
    # a source that trickles bytes cannot hold the deployment-wide ingest lease for long.
    deadline_seconds: float = Field(60.0, gt=0, le=3600, description="longest one request may take")
    run_deadline_seconds: float = Field(
        900.0, gt=0, le=86400, description="longest one source run may take"
    )
    max_response_bytes: int = Field(
        32 * 1024 * 1024,
        ge=1024,
        le=2**31,
        description="a larger reply is refused (read no further)",
    )


class RankingSettings(Section):
    """Weights of the trending score (see paperbot.core.papers.ranking for the formula)."""

    upvote_weight: float = Field(1.0, ge=0)
    comment_weight: float = Field(0.5, ge=0)
    star_weight: float = Field(0.05, ge=0)
    growth_weight: float = Field(2.0, ge=0)
    half_life_hours: float = Field(default=36.0, gt=0, le=24 * 365)
    topic_weight: float = Field(1.0, ge=0)
    # Base score of every paper before decay, so papers without signals rank by recency.
    recency_weight: float = Field(default=1.0, ge=0)
    growth_window_hours: float = Field(
        default=24.0, gt=0, le=24 * 30, description="span growth is measured on"
    )
    extra_topic_bonus: float = Field(default=0.1, ge=0, description="bonus per extra topic")


class DigestSettings(Section):
    default_time: ClockTime = "09:00"
    default_zone: Zone = "UTC"
    default_days: Days = "daily"
    default_size: int = Field(5, ge=DIGEST_SIZE.low, le=DIGEST_SIZE.high)
    max_size: int = Field(20, ge=1, le=50)
    lookback_days: int = Field(3, ge=1, le=30)
    max_lookback_days: int = Field(14, ge=1, le=60)
    topic_share: float = Field(
        0.5, ge=0.0, le=1.0, description="part of a digest shared evenly among its topics"
    )
    grace_hours: float = Field(6.0, ge=0, le=72)
    lease_seconds: int = Field(120, ge=10, le=DAY_SECONDS)
    max_attempts: int = Field(8, ge=1, le=100)
    tick_seconds: float = Field(
        60.0, ge=0.1, le=3600, description="how often `paperbot run` delivers"
    )
    reconcile_retry_seconds: float = Field(
        60.0,
        gt=0,
        le=3600,
        description="wait before asking again whether a post went out",
    )

    @property
    def send_budget_seconds(self) -> float:
        """The longest one message may take to post, inline 429 waits included: half the
        lease, so a send that starts right after a renewal ends while the lease still holds."""
        return self.lease_seconds / 2

    @field_validator("max_size")
    @classmethod
    def _max_fits_default(cls, value: int, info: Any) -> int:
        default = info.data.get("default_size")
        if default is not None and value < default:
            raise ValueError(f"smaller than default_size ({default})")
        return value

    @field_validator("max_lookback_days")
    @classmethod
    def _max_fits_lookback(cls, value: int, info: Any) -> int:
        lookback = info.data.get("lookback_days")
        if lookback is not None and value < lookback:
            raise ValueError(f"smaller than lookback_days ({lookback})")
        return value


class SearchSettings(Section):
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
        240.0, gt=0, le=86400, description="longest embedding run per ingest tick (the rest waits)"
    )
    exact_limit: int = Field(
        50_000,
        ge=0,
        le=100_000_000,
        description="up to this many papers vectors are searched exactly",
    )
    topic_threshold: float = Field(
        0.45, ge=0.0, le=1.0, description="relevance (0..1) a paper needs to match a topic"
    )


class PermissionSettings(Section):
    # "managers": platform admins, channel managers and the allow-lists may change a channel;
    # "anyone": every member may (small private groups).
    channel_changes: Literal["managers", "anyone"] = "managers"


class RetentionSettings(Section):
    snapshot_days: int = Field(30, ge=1, le=3650)
    removed_channel_days: int = Field(30, ge=0, le=3650)


# --- engagement (issue 12)
class EngageSettings(Section):
    """Channel feedback, taste and roundups (PAPERBOT_ENGAGE__*)."""

    # A removed channel's (or uninstalled workspace's) feedback is deleted after this long.
    retention_days: int = Field(30, ge=0, le=3650)
    # How far taste moves a paper, in units of the spread of the digest's candidate scores.
    taste_weight: float = Field(1.0, ge=0, le=10)
    half_life_days: float = Field(30.0, gt=0, le=3650, description="feedback loses half its weight")
    weak_weight: float = Field(
        0.3, ge=0, le=1, description="weight of more-like-this, share, discuss and replies"
    )
    roundup_size: int = Field(10, ge=1, le=20)
    roundup_days: int = Field(7, ge=1, le=31, description="days a roundup looks back")


# --- end engagement


class ConsoleSettings(Section):
    # One JSON line per posted digest part (shared by processes: appended with O_APPEND).
    transcript: Path | None = None

    @field_validator("transcript")
    @classmethod
    def _a_file(cls, value: Path | None) -> Path | None:
        if value is not None and value.is_dir():
            raise ValueError("is a folder: name a file to append to")
        return value


class AlertSettings(Section):
    """Where operator notices go besides the log and /metrics (PAPERBOT_ALERTS__*)."""

    # Receives a JSON notice (POST) when no person can be told; may embed a secret.
    webhook_url: SecretStr | None = None
    timeout_seconds: float = Field(5.0, gt=0, le=60)


def config_file() -> tuple[Path, bool]:
    """The TOML file to read, and whether it was asked for (PAPERBOT_CONFIG) or is the default."""
    named = os.environ.get("PAPERBOT_CONFIG", "").strip()
    return (Path(named), True) if named else (DEFAULT_CONFIG_FILE, False)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PAPERBOT_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
        allow_inf_nan=False,
    )

    database_url: DatabaseUrl = "sqlite:///paperbot.db"
    database_connect_timeout_seconds: float = Field(10.0, gt=0, le=300)
    index_dir: Path | None = None
    # "auto": bundled sample papers only on the embedded default (no Slack or Discord).
    seed_sample_data: SeedPolicy = "auto"
    log_level: LogLevel = "INFO"
    instance_id: Annotated[Word, Field(max_length=100)] | None = None
    http: HttpSettings = Field(default_factory=HttpSettings)
    source_http: SourceHttpSettings = Field(default_factory=SourceHttpSettings)
    hf: HFSettings = Field(default_factory=HFSettings)
    arxiv: ArxivSettings = Field(default_factory=ArxivSettings)
    ranking: RankingSettings = Field(default_factory=RankingSettings)
    digest: DigestSettings = Field(default_factory=DigestSettings)
    permissions: PermissionSettings = Field(default_factory=PermissionSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    engage: EngageSettings = Field(default_factory=EngageSettings)
    search: SearchSettings = Field(default_factory=SearchSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    discord: DiscordSettings = Field(default_factory=DiscordSettings)
    console: ConsoleSettings = Field(default_factory=ConsoleSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)

    @field_validator("*", mode="before")
    @classmethod
    def _text_forms(cls, value: Any, info: Any) -> Any:
        if info.field_name == "seed_sample_data":
            return seed_policy(value)
        return from_text(cls, info.field_name, value)

    @field_validator("index_dir")
    @classmethod
    def _a_folder(cls, value: Path | None) -> Path | None:
        if value is not None and value.exists() and not value.is_dir():
            raise ValueError("is a file: name a folder for the search index")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        from paperbot.config_errors import TomlFile

        path, asked = config_file()
        toml = TomlFile(settings_cls, path, required=asked)
        return (init_settings, env_settings, dotenv_settings, toml, file_secret_settings)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def platform_configured(self) -> bool:
        """Slack or Discord credentials are set: this store serves real channels."""
        return self.slack.configured or self.discord.configured

    def scheduled_sources(self) -> list[Literal["hf", "arxiv"]]:
        """The enabled network sources, ingested on schedule (files are ingested on demand)."""
        return [name for name in ("hf", "arxiv") if getattr(self, name).enabled]

    def seeds_samples(self) -> bool:
        """Whether an empty store gets the bundled sample papers (see seed_sample_data)."""
        if self.seed_sample_data == "auto":
            return not self.platform_configured
        return self.seed_sample_data == "true"

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


def load_settings(**overrides: Any) -> Settings:
    """Settings from every source, or a ConfigError: one line per bad setting, no secrets."""
    from paperbot.config_errors import describe, misspelt_variables

    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(describe(exc, Settings)) from None
    except SettingsError as exc:
        raise ConfigError(describe(exc, Settings)) from None
    misspelt = misspelt_variables(Settings)
    if misspelt:
        raise ConfigError("\n".join(misspelt))
    return settings


__all__ = [
    "ConfigError",
    "DigestSettings",
    "Settings",
    "config_file",
    "load_settings",
]
