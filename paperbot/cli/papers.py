"""`paperbot ingest`, `search` and `trending`: the paper store from the command line."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from paperbot.cli.common import (
    app,
    card_json,
    card_line,
    emit,
    emit_json,
    fail,
    load_settings,
    opened_core,
    setup_logging,
    utcnow,
)
from paperbot.cli.progress import ProgressReporter
from paperbot.config import Settings
from paperbot.core.limits import CLI_RESULTS, SEARCH_PAGE
from paperbot.core.printable import printable


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
    skip_invalid: Annotated[
        bool,
        typer.Option(
            "--skip-invalid", help="--source file: ingest the good lines, report the bad ones."
        ),
    ] = False,
) -> None:
    """Fetch papers from a source into the store and the search index."""
    settings = load_settings()
    setup_logging(settings)
    source = source.lower()
    if source not in ("hf", "arxiv", "file"):
        fail(f"unknown source {source!r}: use hf, arxiv or file")
    if source == "file":
        if path is None:
            fail("--source file needs a PATH to a JSONL file")
        if not path.is_file():
            fail(f"no such file: {printable(str(path))}")
        _ingest_file(settings, path, skip_invalid=skip_invalid)
        return
    days = [_parse_day(d) for d in day] if day else None
    if category:
        category = [c.strip() for c in category if c.strip()]
    now = utcnow()
    with opened_core(settings, now) as core:
        outcome, indexed = core.service.ingest_source(
            "hf" if source == "hf" else "arxiv", now=now, days=days, categories=category
        )
        if not outcome.ok:
            sys.stderr.write(f"paperbot: {source} failed: {outcome.error}; stored papers kept.\n")
            raise typer.Exit(1)
        emit(f"{outcome.summary()}; indexed {indexed}.")


def _ingest_file(settings: Settings, path: Path, *, skip_invalid: bool) -> None:
    from paperbot.core.service import FileFormatError, PaperFile

    now = utcnow()
    shown = printable(str(path))
    with opened_core(settings, now) as core, ProgressReporter() as progress:
        file = PaperFile(
            path,
            skip_invalid=skip_invalid,
            on_check=progress.stage(f"checking {path.name}", unit="bytes"),
            on_ingest=progress.stage("ingesting"),
        )
        try:
            run = core.service.ingest_file(file, now=now)
        except FileFormatError as exc:  # an IngestError (exit 1) is main()'s to report
            hint = "" if exc.line is None else NOTHING_INGESTED
            fail(f"{exc}{hint}")
        indexed = core.service.index_papers(progress.stage("indexing"))
    result = run.result
    if run.skipped:
        problems = "\n".join(f"  {p}" for p in run.scan.problems)
        more = run.skipped - len(run.scan.problems)
        tail = f"\n  and {more} more" if more > 0 else ""
        lines = "line" if run.skipped == 1 else "lines"
        sys.stderr.write(
            f"paperbot: skipped {run.skipped} bad {lines} of {shown}:\n{problems}{tail}\n"
        )
    emit(
        f"Ingested {result.seen} papers from {shown}"
        f" ({result.added} new, {result.updated} updated); indexed {indexed}."
    )


# One-off commands never seed the store (that is `paperbot run`'s first start), so a first
# search on a new machine says where papers come from instead of only "no papers".
EMPTY_STORE = (
    " The store holds no papers yet: `paperbot run` adds the bundled sample papers on its"
    " first start, `paperbot ingest --source hf` fetches Hugging Face's recent days."
)

NOTHING_INGESTED = (
    "\nNothing was ingested; --skip-invalid ingests the good lines and reports the bad ones."
)


def _parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        fail(f"--date {text[:20]!r} is not a date: use YYYY-MM-DD")


@app.command()
def search(
    query: Annotated[str, typer.Argument(help='Words, "phrases", -exclude, author:, cat:, since:')],
    limit: Annotated[
        int, typer.Option(min=CLI_RESULTS.low, max=CLI_RESULTS.high, help="Results per page.")
    ] = 10,
    page: Annotated[int, typer.Option(min=SEARCH_PAGE.low, max=SEARCH_PAGE.high)] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Search the paper store."""
    from paperbot.core import commands

    settings = load_settings()
    setup_logging(settings)
    # A query that does not work is a UserError (ParseError, QueryTooLong): main() says why.
    text = commands.check_query(commands.clean_text(query))
    with opened_core(settings) as core:
        result = core.service.search(text, page=page, page_size=limit, now=utcnow())
        empty = not result.cards and core.service.index_status().lexical_docs == 0
    if as_json:
        emit_json([card_json(c) for c in result.cards])
        return
    for card in result.cards:
        emit(card_line(card))
    if not result.cards:
        sys.stderr.write(f"No papers found for {text!r}.{EMPTY_STORE if empty else ''}\n")


@app.command()
def trending(
    limit: Annotated[int, typer.Option(min=CLI_RESULTS.low, max=CLI_RESULTS.high)] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """What is trending now."""
    settings = load_settings()
    setup_logging(settings)
    with opened_core(settings) as core:
        cards = core.service.trending(now=utcnow(), limit=limit)
        empty = not cards and core.service.index_status().lexical_docs == 0
    if as_json:
        emit_json([card_json(c) for c in cards])
        return
    for card in cards:
        emit(" · ".join([card_line(card), *card.signals(), *filter(None, [card.why])]))
    if not cards:
        sys.stderr.write(f"Nothing is trending.{EMPTY_STORE if empty else ''}\n")
