"""The `paperbot` command: parse arguments, build Settings, call bootstrap and the core.

Results go to stdout, logs to stderr. Exit codes: 0 answered (even with no results),
2 bad input (one line on stderr), 1 unexpected failure.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from pydantic import ValidationError

from paperbot.config import ConfigError, Settings

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


class BadInput(Exception):
    """User input we refuse: one line on stderr, exit 2."""


def fail(message: str) -> NoReturn:
    raise BadInput(message)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        fail(f"invalid setting {where}: {first['msg']}")


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
    sys.stdout.write(text + "\n")


def emit_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n")


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


# --- run ---------------------------------------------------------------------------------


@app.command()
def run(
    console: Annotated[
        bool | None,
        typer.Option(
            "--console/--no-console",
            help="Chat on stdin/stdout (default: on when no Slack/Discord is configured).",
        ),
    ] = None,
) -> None:
    """Run the bot: ingest, post digests on schedule, answer commands."""
    from paperbot.bootstrap import run as run_bot

    settings = load_settings()
    setup_logging(settings)
    code = asyncio.run(run_bot(settings, console=console, stdin=sys.stdin, stdout=sys.stdout))
    sys.stdout.flush()
    sys.stderr.flush()
    # A source request may still be waiting on its timeout in a worker thread; its result is no
    # longer wanted, so don't make the user wait for it at EOF.
    if any(t.is_alive() and not t.daemon for t in threading.enumerate()[1:]):
        os._exit(code)
    raise typer.Exit(code)


# --- ingest ------------------------------------------------------------------------------


@app.command()
def ingest(
    source: Annotated[str, typer.Option(help="hf, arxiv or file.")],
    path: Annotated[Path | None, typer.Argument(help="JSONL file for --source file.")] = None,
    day: Annotated[
        list[str] | None, typer.Option("--date", help="Hugging Face day (YYYY-MM-DD), repeatable.")
    ] = None,
    category: Annotated[
        list[str] | None, typer.Option(help="arXiv category, repeatable (e.g. cs.LG).")
    ] = None,
) -> None:
    """Fetch papers from a source into the store and the search index."""
    from paperbot.core import ingest as ingest_mod

    settings = load_settings()
    setup_logging(settings)
    source = source.lower()
    if source not in ("hf", "arxiv", "file"):
        fail(f"unknown source {source!r}: use hf, arxiv or file")
    if source == "file":
        if path is None:
            fail("--source file needs a PATH to a JSONL file")
        if not path.is_file():
            fail(f"no such file: {path}")
    days = [_parse_day(d) for d in day] if day else None
    if category:
        category = [c.strip() for c in category if c.strip()]
    now = utcnow()
    with opened_core(settings, now) as core:
        if source == "file":
            from paperbot.core.sources.files import FileFormatError

            assert path is not None
            try:
                result = ingest_mod.ingest_file(core.session_factory, path, now=now)
            except FileFormatError as exc:
                fail(str(exc))
            indexed = core.index.catch_up(core.session_factory)
            emit(
                f"Ingested {result.added + result.updated + result.unchanged} papers from {path}"
                f" ({result.added} new, {result.updated} updated); indexed {indexed}."
            )
            return
        outcome = ingest_mod.run_source(
            core.session_factory,
            settings,
            "hf" if source == "hf" else "arxiv",
            now=now,
            days=days,
            categories=category,
        )
        indexed = core.index.catch_up(core.session_factory)
        if not outcome.ok:
            sys.stderr.write(f"paperbot: {source} failed: {outcome.error}; stored papers kept.\n")
            raise typer.Exit(1)
        emit(f"{outcome.summary()}; indexed {indexed}.")


def _parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        fail(f"--date {text[:20]!r} is not a date: use YYYY-MM-DD")


# --- search and trending ------------------------------------------------------------------


@app.command()
def search(
    query: Annotated[str, typer.Argument(help='Words, "phrases", -exclude, author:, cat:, since:')],
    limit: Annotated[int, typer.Option(min=1, max=100, help="Results per page.")] = 10,
    page: Annotated[int, typer.Option(min=1, max=1000)] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Search the paper store."""
    from paperbot.core import commands
    from paperbot.core import search as search_mod

    settings = load_settings()
    setup_logging(settings)
    try:
        text = commands.check_query(commands.clean_text(query))
    except commands.ParseError as exc:
        fail(str(exc))
    with opened_core(settings) as core:
        try:
            result = search_mod.search_papers(
                core.session_factory, core.index, text, page=page, page_size=limit, now=utcnow()
            )
        except search_mod.QueryTooLong as exc:
            fail(str(exc))
    if as_json:
        emit_json([card_json(c) for c in result.cards])
        return
    for card in result.cards:
        emit(card_line(card))
    if not result.cards:
        sys.stderr.write(f"No papers found for {text!r}.\n")


@app.command()
def trending(
    limit: Annotated[int, typer.Option(min=1, max=100)] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """What is trending now."""
    from paperbot.core.digest import trending_papers

    settings = load_settings()
    setup_logging(settings)
    with opened_core(settings) as core:
        cards = trending_papers(core.session_factory, now=utcnow(), settings=settings, limit=limit)
    if as_json:
        emit_json([card_json(c) for c in cards])
        return
    for card in cards:
        emit(f"{card_line(card)} · {card.why}" if card.why else card_line(card))


# --- channels ----------------------------------------------------------------------------

PlatformOpt = Annotated[str, typer.Option("--platform", help="slack, discord or console.")]
WorkspaceOpt = Annotated[str, typer.Option("--workspace", help="Slack team / Discord guild id.")]
ChannelOpt = Annotated[str, typer.Option("--channel", help="Channel id.")]


def _ref(platform: str, workspace: str, channel: str) -> Any:
    from paperbot.core.messages import ChannelRef

    platform = platform.strip().lower()
    if platform not in ("slack", "discord", "console"):
        fail(f"unknown platform {platform!r}: use slack, discord or console")
    if not workspace.strip() or not channel.strip():
        fail("--workspace and --channel must not be empty")
    return ChannelRef(platform, workspace.strip(), channel.strip())


@channel_app.command("add")
def channel_add(
    platform: PlatformOpt,
    workspace: WorkspaceOpt,
    channel: ChannelOpt,
    time: Annotated[str | None, typer.Option(help="Local time, HH:MM.")] = None,
    zone: Annotated[str | None, typer.Option(help="IANA time zone, e.g. Europe/Berlin.")] = None,
    days: Annotated[str | None, typer.Option(help="daily, weekdays or mon,wed,fri.")] = None,
    size: Annotated[int | None, typer.Option(help="Papers per digest (1-20).")] = None,
    topic: Annotated[list[str] | None, typer.Option(help="Topic, repeatable.")] = None,
    post_empty: Annotated[
        bool | None, typer.Option("--post-empty/--skip-empty", help="Post on days with no papers.")
    ] = None,
) -> None:
    """Add a channel (or update it) with its schedule and topics."""
    from paperbot.core import channels, commands

    ref = _ref(platform, workspace, channel)
    try:
        at = commands.parse_time(time).strftime("%H:%M") if time else None
        tz = commands.parse_zone(zone) if zone else None
        day_spec = commands.parse_days(days) if days else None
        topics = [commands.check_topic(t) for t in topic or []]
    except commands.ParseError as exc:
        fail(str(exc).replace("`", ""))
    if size is not None and not 1 <= size <= 20:
        fail("--size must be between 1 and 20")
    settings = load_settings()
    setup_logging(settings)
    now = utcnow()
    with opened_core(settings, now) as core, core.session_factory.begin() as session:
        row = channels.get_or_create(session, ref, settings.digest, now=now)
        channels.set_schedule(
            row,
            channels.ScheduleSpec(
                time=at or row.digest_time, zone=tz or row.timezone, days=day_spec or row.days
            ),
        )
        if size is not None:
            row.size = size
        if post_empty is not None:
            row.post_empty = post_empty
        for t in topics:
            try:
                channels.subscribe(session, row, t, user="cli", now=now)
            except channels.ChannelError as exc:
                fail(str(exc))
        emit(_channel_line(row))


def _channel_line(row: Any) -> str:
    topics = ", ".join(s.topic for s in row.subscriptions) or "(all papers)"
    state = f" [paused: {row.pause_reason or 'yes'}]" if row.paused else ""
    return (
        f"{row.platform}:{row.workspace}/{row.channel} {row.digest_time} {row.timezone}"
        f" {row.days} size={row.size} topics: {topics}{state}"
    )


@channel_app.command("list")
def channel_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List channels, their schedules and topics."""
    from paperbot.core import channels

    settings = load_settings()
    setup_logging(settings)
    with opened_core(settings) as core, core.session_factory() as session:
        rows = channels.all_channels(session)
        if as_json:
            emit_json(
                [
                    {
                        "platform": r.platform,
                        "workspace": r.workspace,
                        "channel": r.channel,
                        "time": r.digest_time,
                        "zone": r.timezone,
                        "days": r.days,
                        "size": r.size,
                        "topics": [s.topic for s in r.subscriptions],
                        "paused": r.paused,
                        "pause_reason": r.pause_reason,
                    }
                    for r in rows
                ]
            )
            return
        for r in rows:
            emit(_channel_line(r))


@channel_app.command("remove")
def channel_remove(platform: PlatformOpt, workspace: WorkspaceOpt, channel: ChannelOpt) -> None:
    """Remove a channel, its topics and its delivery history."""
    from paperbot.core import channels

    ref = _ref(platform, workspace, channel)
    settings = load_settings()
    setup_logging(settings)
    with opened_core(settings) as core, core.session_factory.begin() as session:
        if not channels.remove(session, ref):
            fail(f"no such channel: {ref}")
    emit(f"Removed {ref}.")


# --- digests and delivery ----------------------------------------------------------------


@app.command()
def digest(
    platform: PlatformOpt,
    workspace: WorkspaceOpt,
    channel: ChannelOpt,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print it; post nothing.")] = False,
) -> None:
    """Build a channel's next digest: print it (--dry-run) or post it now."""
    from paperbot.adapters.console.render import render_digest
    from paperbot.bootstrap import add_platform_adapters
    from paperbot.core import channels, delivery

    ref = _ref(platform, workspace, channel)
    settings = load_settings()
    setup_logging(settings)
    now = utcnow()
    with opened_core(settings, now) as core:
        with core.session_factory() as session:
            row = channels.find(session, ref)
            if row is None:
                fail(f"no such channel: {ref} (add it with `paperbot channel add`)")
            if dry_run:
                emit(render_digest(core.service.digest_builder(session, row, now, 0)))
                return
            channel_id = row.id
        add_platform_adapters(core)
        target = core.service.platforms.get(ref.platform)
        if target is None:
            fail(f"{ref.platform} is not configured: set its credentials or use --dry-run")
        outcome = delivery.deliver_now(
            core.session_factory,
            target,
            channel_id,
            core.service.digest_builder,
            now=now,
            settings=settings,
            worker_id=core.service.worker_id,
        )
        emit(outcome.message)


@app.command()
def deliver(
    now: Annotated[
        str | None,
        typer.Option(help="Judge due slots, grace and leases as of this ISO instant."),
    ] = None,
) -> None:
    """Run one delivery pass (every due digest, once) and exit."""
    from paperbot.bootstrap import add_platform_adapters
    from paperbot.core import delivery

    at = _parse_instant(now) if now else utcnow()
    settings = load_settings()
    setup_logging(settings)
    with opened_core(settings, at) as core:
        add_platform_adapters(core)
        report = delivery.deliver_due(
            core.session_factory,
            core.service.platforms,
            core.service.digest_builder,
            now=at,
            worker_id=core.service.worker_id,
            settings=settings,
        )
    emit(report.summary())


def _parse_instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        fail(f"--now {text[:40]!r} is not an ISO instant, e.g. 2026-11-27T09:00:00+01:00")
    if value.tzinfo is None:
        fail("--now needs a UTC offset, e.g. 2026-11-27T09:00:00+01:00")
    return value.astimezone(UTC)


# --- maintenance -------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations."""
    from paperbot.core import db

    settings = load_settings()
    setup_logging(settings)
    engine = db.create_db_engine(settings.database_url)
    db.upgrade(engine)
    engine.dispose()
    emit("Database is up to date.")


@index_app.command("rebuild")
def index_rebuild() -> None:
    """Rebuild the search index from the database."""
    settings = load_settings()
    setup_logging(settings)
    with opened_core(settings) as core:
        n = core.index.rebuild(core.session_factory)
    emit(f"Indexed {n} papers into {settings.resolved_index_dir()}.")


@discord_app.command("invite-url")
def discord_invite_url() -> None:
    """Print the link that adds paperbot to a Discord server."""
    from paperbot.adapters.discord.invite import InviteError, invite_url

    settings = load_settings()
    setup_logging(settings)
    try:
        emit(invite_url(settings))
    except InviteError as exc:
        fail(str(exc))


def main() -> None:
    try:
        app()
    except (BadInput, ConfigError) as exc:
        sys.stderr.write(f"paperbot: {exc}\n")
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        logging.getLogger("paperbot").debug("unexpected failure", exc_info=True)
        sys.stderr.write(f"paperbot: unexpected error: {type(exc).__name__}: {exc}\n")
        sys.exit(1)
