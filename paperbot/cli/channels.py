"""`paperbot channel ...`, `digest` and `deliver`: channels, their digests and delivery."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from paperbot.cli.common import (
    ChannelOpt,
    PlatformOpt,
    WorkspaceOpt,
    app,
    channel_app,
    channel_ref,
    emit,
    emit_json,
    fail,
    load_settings,
    opened_core,
    options_command,
    setup_logging,
    utcnow,
)
from paperbot.core.limits import DIGEST_SIZE

if TYPE_CHECKING:
    from paperbot.core.service import ChannelInfo, DigestPreview


@dataclass(frozen=True)
class ChannelAddOptions:
    """`paperbot channel add`'s options."""

    platform: PlatformOpt
    workspace: WorkspaceOpt
    channel: ChannelOpt
    time: Annotated[str | None, typer.Option(help="Local time, HH:MM.")] = None
    zone: Annotated[str | None, typer.Option(help="IANA time zone, e.g. Europe/Berlin.")] = None
    days: Annotated[str | None, typer.Option(help="daily, weekdays or mon,wed,fri.")] = None
    size: Annotated[int | None, typer.Option(help=f"Papers per digest ({DIGEST_SIZE}).")] = None
    topic: Annotated[list[str] | None, typer.Option(help="Topic, repeatable.")] = None
    post_empty: Annotated[
        bool | None, typer.Option("--post-empty/--skip-empty", help="Post on days with no papers.")
    ] = None


@channel_app.command("add")
@options_command(ChannelAddOptions)
def channel_add(opts: ChannelAddOptions) -> None:
    """Add a channel (or update it) with its schedule and topics."""
    from paperbot.core import commands
    from paperbot.core.service import ChannelOptions

    ref = channel_ref(opts.platform, opts.workspace, opts.channel)
    try:
        options = ChannelOptions(
            time=commands.parse_time(opts.time).strftime("%H:%M") if opts.time else None,
            zone=commands.parse_zone(opts.zone) if opts.zone else None,
            days=commands.parse_days(opts.days) if opts.days else None,
            size=opts.size,
            topics=tuple(commands.check_topic(t) for t in opts.topic or []),
            post_empty=opts.post_empty,
        )
    except commands.ParseError as exc:
        fail(str(exc).replace("`", ""))  # a terminal shows no chat markup
    if opts.size is not None and opts.size not in DIGEST_SIZE:
        fail(f"--size must be between {DIGEST_SIZE.low} and {DIGEST_SIZE.high}")
    settings = load_settings()
    setup_logging(settings)
    now = utcnow()
    with opened_core(settings, now) as core:
        emit(_channel_line(core.service.add_channel(ref, options, now=now)))


def _channel_line(info: ChannelInfo) -> str:
    topics = ", ".join(info.topics) or "(all papers)"
    state = f" [paused: {info.pause_reason or 'yes'}]" if info.paused else ""
    return (
        f"{info.ref.platform}:{info.ref.workspace}/{info.ref.channel} {info.time} {info.zone}"
        f" {info.days} size={info.size} topics: {topics}{state}"
    )


@channel_app.command("list")
def channel_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List channels, their schedules and topics."""
    settings = load_settings()
    setup_logging(settings)
    with opened_core(settings) as core:
        infos = core.service.list_channels()
    if as_json:
        emit_json(
            [
                {
                    "platform": i.ref.platform,
                    "workspace": i.ref.workspace,
                    "channel": i.ref.channel,
                    "time": i.time,
                    "zone": i.zone,
                    "days": i.days,
                    "size": i.size,
                    "topics": list(i.topics),
                    "paused": i.paused,
                    "pause_reason": i.pause_reason,
                    "pause_kind": i.pause_kind,
                }
                for i in infos
            ]
        )
        return
    for info in infos:
        emit(_channel_line(info))


@channel_app.command("remove")
def channel_remove(platform: PlatformOpt, workspace: WorkspaceOpt, channel: ChannelOpt) -> None:
    """Remove a channel, its topics and its delivery history."""
    ref = channel_ref(platform, workspace, channel)
    settings = load_settings()
    setup_logging(settings)
    with opened_core(settings) as core:
        if not core.service.remove_channel(ref):
            fail(f"no such channel: {ref}")
    emit(f"Removed {ref}.")


@app.command()
def digest(
    platform: PlatformOpt,
    workspace: WorkspaceOpt,
    channel: ChannelOpt,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print it; post nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="With --dry-run: print JSON.")] = False,
) -> None:
    """Build a channel's next digest: print it (--dry-run) or post it now."""
    from paperbot.adapters.console.render import render_digest
    from paperbot.bootstrap import add_platform_adapters

    ref = channel_ref(platform, workspace, channel)
    if as_json and not dry_run:
        fail("--json prints a preview: add --dry-run (nothing is posted then)")
    settings = load_settings()
    setup_logging(settings)
    now = utcnow()
    with opened_core(settings, now) as core:
        if not core.service.has_channel(ref):
            fail(f"no such channel: {ref} (add it with `paperbot channel add`)")
        if dry_run:
            preview = core.service.preview_digest(ref, now=now)
            if preview is None:  # removed meanwhile
                fail(f"no such channel: {ref} (add it with `paperbot channel add`)")
            if as_json:
                emit_json(_digest_json(preview))
            else:
                emit(render_digest(preview.digest))
            return
        add_platform_adapters(core)
        if not core.service.serves(ref.platform):
            fail(f"{ref.platform} is not configured: set its credentials or use --dry-run")
        emit(core.service.deliver_now(ref, now=now).message)


def _digest_json(preview: DigestPreview) -> dict[str, Any]:
    built = preview.digest
    return {
        "channel": str(built.channel),
        "slot": preview.slot,
        "papers": [
            {
                "id": card.arxiv_id or card.key,
                "title": card.title,
                "url": card.url,
                "score": round(card.score, 4),
                "why": card.why,
                "topics": list(card.topics),
            }
            for card in built.papers
        ],
        "notes": list(built.notes),
    }


@app.command()
def deliver(
    now: Annotated[
        str | None,
        typer.Option(
            help="Judge due slots and grace as of this ISO instant (leases keep the"
            " database's clock)."
        ),
    ] = None,
) -> None:
    """Run one delivery pass (every due digest, once) and exit.

    Exit 0 when the pass ran, naming each channel in trouble on stderr; 1 when it could not.
    """
    from paperbot.bootstrap import add_platform_adapters

    at = _parse_instant(now) if now else utcnow()
    settings = load_settings()
    setup_logging(settings)
    with opened_core(settings, at) as core:
        add_platform_adapters(core)
        try:
            report = core.service.deliver_due(at)
        except Exception as exc:
            sys.stderr.write(f"paperbot: the delivery pass could not run: {type(exc).__name__}\n")
            raise typer.Exit(1) from None
    emit(report.summary())
    for line in report.troubles:
        sys.stderr.write(line + "\n")


# Instants outside these years are typos (a --now of 0026 or 20266), not schedules.
FIRST_YEAR, LAST_YEAR = 2000, 2100


def _parse_instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        fail(f"--now {text[:40]!r} is not an ISO instant, e.g. 2026-11-27T09:00:00+01:00")
    if value.tzinfo is None:
        fail("--now needs a UTC offset, e.g. 2026-11-27T09:00:00+01:00")
    if not FIRST_YEAR <= value.year < LAST_YEAR:
        fail(f"--now must be between {FIRST_YEAR} and {LAST_YEAR}, not {value.year}")
    return value.astimezone(UTC)
