"""`paperbot run`, `db upgrade`, `db remove-samples`, `index rebuild` and `discord invite-url`."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from typing import Annotated, Any

import typer

from paperbot.cli.common import (
    app,
    db_app,
    discord_app,
    emit,
    fail,
    index_app,
    load_settings,
    opened_core,
    setup_logging,
)


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
    # Everything is closed by now, but a source request may still be waiting out its retries
    # in a scheduler thread (and Python joins those at exit). Its result is no longer wanted:
    # don't make the user wait for it.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations (safe while replicas start: they take turns)."""
    from paperbot.core import db, schema

    settings = load_settings()
    setup_logging(settings)
    engine = db.create_db_engine(
        settings.database_url, connect_timeout=settings.database_connect_timeout_seconds
    )
    try:
        done = schema.upgrade(engine)
    finally:
        engine.dispose()
    for line in done.lines():
        emit(line)


@db_app.command("remove-samples")
def db_remove_samples() -> None:
    """Delete the bundled sample papers (seeded for the console) from the store."""
    from paperbot.core import seed

    settings = load_settings()
    setup_logging(settings)
    with opened_core(settings) as core:
        removed, kept = seed.remove_samples(core.session_factory)
        reindexed = removed > 0 and _rebuild_quietly(core)
    also = f"; kept {kept} that a real source also brought" if kept else ""
    emit(f"Removed {removed} sample papers{also}.")
    if removed and not reindexed:
        # Searches never show them (results come from the database), but the index counts them.
        emit("A running paperbot holds the search index: `paperbot index rebuild` compacts it.")


def _rebuild_quietly(core: Any) -> bool:
    try:
        core.index.rebuild(core.session_factory, wait_seconds=5)
    except RuntimeError:  # another process holds the index writer
        return False
    return True


@index_app.command("rebuild")
def index_rebuild() -> None:
    """Rebuild the search index from the database."""
    from paperbot.cli.progress import ProgressReporter

    settings = load_settings()
    setup_logging(settings)
    with opened_core(settings) as core, ProgressReporter() as progress:
        n = core.index.rebuild(core.session_factory, progress=progress.stage("indexing"))
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
