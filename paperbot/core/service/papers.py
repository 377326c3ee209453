"""The paper store's use cases: ingest (a source, a file, the scheduled tick), search, trending."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Literal

from paperbot.core.messages import PaperCard
from paperbot.core.papers.sources.config import SourceSettings
from paperbot.core.papers.trending import trending_papers
from paperbot.core.progress import Progress
from paperbot.core.search import SearchResult, search_papers
from paperbot.core.service.context import Context
from paperbot.core.service.values import PaperFile

# The ingest code (httpx, feedparser) is imported when ingesting: `paperbot search` stays light.
if TYPE_CHECKING:
    from paperbot.core.papers.ingest import FileIngest, SourceRun

Source = Literal["hf", "arxiv"]


class Papers:
    """Fills the store (and the index after it) and answers the CLI's searches."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def search(self, text: str, *, page: int, page_size: int, now: datetime) -> SearchResult:
        """A search (QueryTooLong for too long a query)."""
        return search_papers(
            self.ctx.session_factory, self.ctx.index, text, page=page, page_size=page_size, now=now
        )

    def trending(self, *, now: datetime, limit: int) -> list[PaperCard]:
        settings = self.ctx.settings
        return trending_papers(
            self.ctx.session_factory,
            now=now,
            weights=settings.ranking,
            lookback_days=settings.digest.lookback_days,
            limit=limit,
        )

    def ingest_source(
        self,
        source: Source,
        *,
        now: datetime,
        days: list[date] | None = None,
        categories: list[str] | None = None,
    ) -> tuple[SourceRun, int]:
        """Fetch a network source now (never raises for the source's failures: the run says),
        then index what came; (the run, papers indexed)."""
        from paperbot.core.papers.ingest import run_source

        ctx = self.ctx
        run = run_source(
            ctx.session_factory,
            SourceSettings.of(ctx.settings),
            source,
            now=now,
            days=days,
            categories=categories,
        )
        return run, ctx.index.catch_up(ctx.session_factory)

    def ingest_file(self, file: PaperFile, *, now: datetime) -> FileIngest:
        """Check, then ingest a JSONL file (FileFormatError naming its bad lines, nothing
        stored); the index catches up with index_papers."""
        from paperbot.core.papers.ingest import ingest_file

        return ingest_file(
            self.ctx.session_factory,
            file.path,
            now=now,
            skip_invalid=file.skip_invalid,
            on_check=file.on_check,
            on_ingest=file.on_ingest,
        )

    def index_papers(self, progress: Progress | None = None) -> int:
        """Bring the search index up to the database; papers indexed."""
        return self.ctx.index.catch_up(self.ctx.session_factory, progress=progress)

    def ingest_tick(self, source: Source, now: datetime) -> SourceRun | None:
        """The scheduler's ingest of one source (under the deployment-wide lease), then the
        embedding backfill, bounded in time."""
        from paperbot.core import jobs

        ctx = self.ctx

        def embed() -> object:
            return ctx.index.backfill(
                ctx.session_factory, budget_seconds=ctx.settings.search.backfill_seconds
            )

        return jobs.ingest_job(
            ctx.session_factory,
            SourceSettings.of(ctx.settings),
            ctx.index,
            source,
            now=now,
            holder=ctx.worker_id,
            after=embed,
        )
