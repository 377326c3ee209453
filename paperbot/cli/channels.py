"""`paperbot channel ...`, `digest` and `deliver`: channels, their digests and delivery."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated, Any

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
    setup_logging,
    utcnow,
)


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
    from paperbot.core import commands
    from paperbot.core.channels import store as channels

    ref = channel_ref(platform, workspace, channel)
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
    from paperbot.core.channels import store as channels

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
                        "pause_kind": r.pause_kind,
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
    from paperbot.core.channels import store as channels

    ref = channel_ref(platform, workspace, channel)
    settings = load_settings()
    setup_logging(settings)
    with opened_core(settings) as core, core.session_factory.begin() as session:
        if not channels.remove(session, ref):
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
    from paperbot.core.channels import store as channels
    from paperbot.core.digests.builder import preview_slot

    ref = channel_ref(platform, workspace, channel)
    if as_json and not dry_run:
        fail("--json prints a preview: add --dry-run (nothing is posted then)")
    settings = load_settings()
    setup_logging(settings)
    now = utcnow()
    with opened_core(settings, now) as core:
        with core.session_factory() as session:
            row = channels.find(session, ref)
            if row is None:
                fail(f"no such channel: {ref} (add it with `paperbot channel add`)")
            if dry_run:
                built = core.service.digest_builder(session, row, now, 0)
                if as_json:
                    emit_json(_digest_json(built, preview_slot(row, now)))
                else:
                    emit(render_digest(built))
                return
        add_platform_adapters(core)
        if ref.platform not in core.service.platforms:
            fail(f"{ref.platform} is not configured: set its credentials or use --dry-run")
        emit(core.service.deliver_now(ref, now=now).message)


def _digest_json(built: Any, slot: str) -> dict[str, Any]:
    return {
        "channel": str(built.channel),
        "slot": slot,
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
