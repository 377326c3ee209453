"""`paperbot run`, `db upgrade`, `db remove-samples`, `index rebuild` and `discord invite-url`."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from typing import Annotated

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
    from paperbot.bootstrap import upgrade_database

    settings = load_settings()
    setup_logging(settings)
    for line in upgrade_database(settings):
        emit(line)


@db_app.command("remove-samples")
def db_remove_samples() -> None:
    """Delete the bundled sample papers (seeded for the console) from the store."""
    settings = load_settings()
    setup_logging(settings)
    with opened_core(settings) as core:
        done = core.service.remove_samples()
    also = f"; kept {done.kept} that a real source also brought" if done.kept else ""
    emit(f"Removed {done.removed} sample papers{also}.")
    if done.removed and not done.reindexed:
        # Searches never show them (results come from the database), but the index counts them.
        emit("A running paperbot holds the search index: `paperbot index rebuild` compacts it.")


@index_app.command("rebuild")
def index_rebuild() -> None:
    """Rebuild the search index (and this model's vector index) from the database."""
    from paperbot.cli.progress import ProgressReporter

    settings = load_settings()
    setup_logging(settings)
    with opened_core(settings) as core, ProgressReporter() as progress:
        built = core.service.rebuild_index(progress.stage("indexing"))
    emit(f"Indexed {built.papers} papers into {settings.resolved_index_dir()}.")
    if built.vectors:
        emit(f"Vector index: {built.vectors} papers with embeddings.")


@index_app.command("status")
def index_status() -> None:
    """Show the search index and the embedding backfill (papers embedded so far)."""
    settings = load_settings()
    setup_logging(settings)
    with opened_core(settings) as core:
        status = core.service.index_status()
    for line in status.lines():
        emit(line)


@index_app.command("embed")
def index_embed(
    seconds: Annotated[
        float | None, typer.Option(min=1, help="Stop after this long (default: until done).")
    ] = None,
) -> None:
    """Embed the papers that have no vectors yet (what `paperbot run` does after ingests)."""
    settings = load_settings()
    setup_logging(settings)
    from paperbot.cli.progress import ProgressReporter

    with opened_core(settings) as core, ProgressReporter() as progress:
        report = core.service.embed_papers(
            budget_seconds=seconds, progress=progress.stage("embedding")
        )
        status = core.service.index_status()
    if report is None:
        fail(f"semantic search is {status.semantic}; nothing to embed")
    done = "all papers have vectors" if report.complete else "more remain; run it again"
    emit(f"Embedded {report.embedded + report.reused} papers; {done}.")
    emit(f"embedded: {status.embedded} of {status.papers} papers")


@discord_app.command("invite-url")
def discord_invite_url() -> None:
    """Print the link that adds paperbot to a Discord server."""
    from paperbot.adapters.discord.invite import invite_url

    settings = load_settings()
    setup_logging(settings)
    emit(invite_url(settings))  # an InviteError is a ConfigError: main() says what to set
