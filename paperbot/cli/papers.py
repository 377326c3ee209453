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
        emit(" · ".join([card_line(card), *card.signals(), *filter(None, [card.why])]))
