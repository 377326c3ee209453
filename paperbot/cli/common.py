"""Shared pieces of the command line: the Typer apps, settings, output and error helpers.

Results go to stdout, logs to stderr. Exit codes: 0 answered (even with no results),
2 bad input or settings (one line on stderr), 1 a service that did not answer or a failure.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, NoReturn, TypeVar, get_type_hints

import typer

from paperbot import config
from paperbot.config import Settings
from paperbot.core.errors import UserError
from paperbot.core.printable import printable

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="paperbot: follow new research papers in Slack, Discord or your terminal.",
)
channel_app = typer.Typer(no_args_is_help=True, help="Manage the channels that get digests.")
db_app = typer.Typer(no_args_is_help=True, help="Database maintenance.")
index_app = typer.Typer(no_args_is_help=True, help="The search index.")
discord_app = typer.Typer(no_args_is_help=True, help="Discord helpers.")
app.add_typer(channel_app, name="channel")
app.add_typer(db_app, name="db")
app.add_typer(index_app, name="index")
app.add_typer(discord_app, name="discord")

log = logging.getLogger("paperbot")


class BadInput(UserError):
    """User input we refuse: one line on stderr, exit 2."""


def fail(message: str) -> NoReturn:
    raise BadInput(message)


Options = TypeVar("Options")


def options_command(options: type[Options]) -> Callable[[Callable[[Options], None]], Any]:
    """A Typer command whose options are the fields of a frozen dataclass (each annotated as
    Typer reads a parameter), run with one instance of it: a command with many options
    stays a function of one parameter."""

    def wrap(run: Callable[[Options], None]) -> Callable[..., None]:
        hints = get_type_hints(options, include_extras=True)
        params = [
            inspect.Parameter(
                f.name,
                inspect.Parameter.KEYWORD_ONLY,
                annotation=hints[f.name],
                default=inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default,
            )
            for f in dataclasses.fields(options)  # type: ignore[arg-type]
        ]

        def command(**values: Any) -> None:
            run(options(**values))

        command.__name__, command.__doc__ = run.__name__, run.__doc__
        command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in params}
        return command

    return wrap


def load_settings() -> Settings:
    """The settings, validated (a ConfigError names each bad one: exit 2)."""
    return config.load_settings()


def setup_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=getattr(logging, settings.log_level.upper(), logging.INFO),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("httpx", "httpcore", "alembic", "apscheduler", "discord", "slack_bolt"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))


def utcnow() -> datetime:
    return datetime.now(UTC)


@contextmanager
def opened_core(settings: Settings, now: datetime | None = None) -> Iterator[Any]:
    from paperbot.bootstrap import build_core, stop_adapters

    core = build_core(settings, now=now or utcnow())
    try:
        yield core
    finally:
        if core.adapters:
            asyncio.run(stop_adapters(core))
        core.close()


def emit(text: str) -> None:
    """One result on stdout, printable whatever third-party text it carries."""
    sys.stdout.write(printable(text, multiline=True) + "\n")


def emit_json(value: Any) -> None:
    # json.dumps escapes C0 controls but not C1 ones or bidi overrides: clean every string.
    text = json.dumps(_printable_json(value), ensure_ascii=False, indent=2, default=str)
    sys.stdout.write(text + "\n")


def _printable_json(value: Any) -> Any:
    if isinstance(value, str):
        return printable(value, multiline=True)
    if isinstance(value, dict):
        return {printable(str(k)): _printable_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_printable_json(v) for v in value]
    return value


def card_line(card: Any) -> str:
    parts = [card.title]
    if card.authors:
        parts.append(card.short_authors())
    if card.published:
        parts.append(str(card.published))
    if card.url:
        parts.append(card.url)
    return " · ".join(parts)


def card_json(card: Any) -> dict[str, Any]:
    return {
        "id": card.arxiv_id or card.key,
        "key": card.key,
        "title": card.title,
        "url": card.url,
        "score": round(card.score, 4),
        "authors": list(card.authors),
        "published": card.published.isoformat() if card.published else None,
        "upvotes": card.upvotes,
        "comments": card.comments,
        "github_stars": card.github_stars,
        "code_url": card.code_url,
        "why": card.why,
        "summary": card.summary,
    }


PlatformOpt = Annotated[str, typer.Option("--platform", help="slack, discord or console.")]
WorkspaceOpt = Annotated[str, typer.Option("--workspace", help="Slack team / Discord guild id.")]
ChannelOpt = Annotated[str, typer.Option("--channel", help="Channel id.")]


def channel_ref(platform: str, workspace: str, channel: str) -> Any:
    from paperbot.core.messages import ChannelRef

    platform = platform.strip().lower()
    if platform not in ("slack", "discord", "console"):
        fail(f"unknown platform {platform!r}: use slack, discord or console")
    if not workspace.strip() or not channel.strip():
        fail("--workspace and --channel must not be empty")
    return ChannelRef(platform, workspace.strip(), channel.strip())
