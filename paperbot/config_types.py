"""Validated setting types (zones, HH:MM times, day lists, URLs, database URLs, log levels) and
the Section base every settings area derives from.

Each type is the plain value the code already uses (a str), checked and normalised when the
settings load, so a bad value stops the start instead of reaching a channel row.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal, get_args
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, field_validator
from pydantic_settings import NoDecode

_PRINTABLE = re.compile(r"^[^\x00-\x1f\x7f-\x9f\s]+$")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
SUPPORTED_DATABASES = "sqlite:///path.db or postgresql+psycopg://user:password@host:5432/name"


def _zone(value: str) -> str:
    # The chat command's parser, so a zone the settings take is one /papers schedule takes.
    from paperbot.core.commands import ParseError, parse_zone

    try:
        return parse_zone(value)
    except ParseError:
        raise ValueError("not an IANA time zone (e.g. Europe/Berlin, America/New_York)") from None


def _clock(value: str) -> str:
    from paperbot.core.commands import ParseError, parse_time

    try:
        return parse_time(value).strftime("%H:%M")
    except ParseError:
        raise ValueError("not a time of day: use 24-hour HH:MM, e.g. 09:00") from None


def _days(value: str) -> str:
    from paperbot.core.commands import ParseError, parse_days

    try:
        return parse_days(value)
    except ParseError:
        raise ValueError("not a day list: use daily, weekdays, or days like mon,wed,fri") from None


def _url(value: str, schemes: tuple[str, ...]) -> str:
    value = value.strip()
    if not _PRINTABLE.match(value):
        raise ValueError("a URL has no spaces or control characters")
    try:
        parts = urlsplit(value)
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        port_ok = False
    if parts.scheme.lower() not in schemes or not parts.hostname or not port_ok:
        raise ValueError(f"not a {schemes[0]}(s) URL (e.g. {schemes[-1]}://host)")
    return value


def _http_url(value: str) -> str:
    return _url(value, ("http", "https"))


def _ws_url(value: str) -> str:
    return _url(value, ("ws", "wss"))


def database_url(value: str) -> str:
    """A URL SQLAlchemy can open with the drivers paperbot ships (SQLite or psycopg)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    value = value.strip()
    if value.startswith("postgres://"):  # what many hosting providers hand out
        value = "postgresql://" + value.removeprefix("postgres://")
    try:
        url = make_url(value)
        dialect = url.get_dialect()
        port_ok = url.port is None or 0 < url.port < 65536
    except (ArgumentError, NoSuchModuleError, ValueError):
        raise ValueError(f"not a database URL: use {SUPPORTED_DATABASES}") from None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise ValueError(f"paperbot runs on SQLite or PostgreSQL: use {SUPPORTED_DATABASES}")
    if not port_ok:
        raise ValueError("the port must be between 1 and 65535")
    if url.get_backend_name() == "postgresql" and not url.database:
        raise ValueError("name the database: postgresql+psycopg://user@host:5432/name")
    try:
        dialect.import_dbapi()
    except ImportError:
        raise ValueError(
            f"the driver {url.get_driver_name()!r} is not installed: use {SUPPORTED_DATABASES}"
        ) from None
    return value


def _log_level(value: str) -> str:
    level = value.strip().upper()
    if level not in LOG_LEVELS:
        raise ValueError(f"not a log level: use one of {', '.join(LOG_LEVELS)}")
    return level


def _word(value: str) -> str:
    if not _PRINTABLE.match(value):
        raise ValueError("must be one word: no spaces or control characters")
    return value


def _text(value: str) -> str:
    if not value.strip() or any(ch < " " or "\x7f" <= ch <= "\x9f" for ch in value):
        raise ValueError("must be non-empty printable text on one line")
    return value


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


Zone = Annotated[str, BeforeValidator(_strip), AfterValidator(_zone)]
ClockTime = Annotated[str, BeforeValidator(_strip), AfterValidator(_clock)]
Days = Annotated[str, BeforeValidator(_strip), AfterValidator(_days)]
HttpUrl = Annotated[str, AfterValidator(_http_url)]
WsUrl = Annotated[str, AfterValidator(_ws_url)]
DatabaseUrl = Annotated[str, AfterValidator(database_url)]
LogLevel = Annotated[str, AfterValidator(_log_level)]
Word = Annotated[str, BeforeValidator(_strip), AfterValidator(_word)]
Text = Annotated[str, AfterValidator(_text)]


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


WordList = Annotated[list[Word], NoDecode]


def from_text(model: type[BaseModel], name: str, value: Any) -> Any:
    """Lists from JSON or commas; an empty string for an optional value means unset."""
    field = model.model_fields.get(name)
    if field is None:
        return value
    if str(field.annotation).startswith("list"):
        return split_list(value)
    if isinstance(value, str) and not value.strip() and type(None) in get_args(field.annotation):
        return None  # `PAPERBOT_DISCORD__TOKEN=` as in config/example.env: not configured
    return value


class Section(BaseModel):
    """One settings area: unknown keys (typos) and non-finite numbers are refused."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _text_forms(cls, value: Any, info: Any) -> Any:
        return from_text(cls, info.field_name, value)


SeedPolicy = Literal["auto", "true", "false"]
_SEED_WORDS = {
    **dict.fromkeys(("yes", "on", "1"), "true"),
    **dict.fromkeys(("no", "off", "0"), "false"),
}


def seed_policy(value: Any) -> Any:
    """true/false booleans (the old setting) and their usual spellings, or "auto"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        word = value.strip().lower()
        return _SEED_WORDS.get(word, word)
    return value


__all__ = [
    "ClockTime",
    "DatabaseUrl",
    "Days",
    "HttpUrl",
    "LogLevel",
    "Section",
    "SeedPolicy",
    "Text",
    "Word",
    "WordList",
    "WsUrl",
    "Zone",
    "database_url",
    "from_text",
    "seed_policy",
    "split_list",
]
