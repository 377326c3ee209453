"""Maintenance use cases: the search index (rebuild, status, embed), sample papers, the daily
housekeeping tick, readiness."""

from __future__ import annotations

from datetime import datetime

from paperbot.core import readiness
from paperbot.core.maintenance import MaintenanceReport
from paperbot.core.progress import Progress
from paperbot.core.search.backfill import BackfillReport
from paperbot.core.search.hybrid import IndexStatus
from paperbot.core.service.context import Context
from paperbot.core.service.values import IndexBuilt, SamplesRemoved

# `paperbot db remove-samples` compacts the index if it can take its writer this soon.
REINDEX_WAIT_SECONDS = 5


class Upkeep:
    """Keeps the store and the index in shape; says whether this replica can serve."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def rebuild_index(self, progress: Progress | None = None) -> IndexBuilt:
        ctx = self.ctx
        papers = ctx.index.rebuild(ctx.session_factory, progress=progress)
        vectors = ctx.index.vectors
        return IndexBuilt(papers, len(vectors) if vectors is not None else 0)

    def index_status(self) -> IndexStatus:
        return self.ctx.index.status(self.ctx.session_factory)

    def embed(
        self, *, budget_seconds: float | None, progress: Progress | None = None
    ) -> BackfillReport | None:
        """Embed the papers without vectors (None: semantic search is off or unusable)."""
        return self.ctx.index.backfill(
            self.ctx.session_factory, budget_seconds=budget_seconds, progress=progress
        )

    def count_samples(self) -> int:
        from paperbot.core.papers import seed  # ingest code: only when asked

        return seed.count_samples(self.ctx.session_factory)

    def remove_samples(self) -> SamplesRemoved:
        from paperbot.core.papers import seed

        ctx = self.ctx
        removed, kept = seed.remove_samples(ctx.session_factory)
        reindexed = removed > 0 and self._rebuild_quietly()
        return SamplesRemoved(removed, kept, reindexed)

    def _rebuild_quietly(self) -> bool:
        try:
            self.ctx.index.rebuild(self.ctx.session_factory, wait_seconds=REINDEX_WAIT_SECONDS)
        except RuntimeError:  # another process holds the index writer
            return False
        return True

    def maintenance_tick(self, now: datetime) -> MaintenanceReport:
        from paperbot.core import jobs

        return jobs.maintenance_job(
            self.ctx.session_factory,
            self.ctx.settings.retention,
            now=now,
            engage=self.ctx.settings.engage,
        )

    def readiness(self) -> list[str]:
        return readiness.reasons(self.ctx.session_factory, self.ctx.index, self.ctx.platforms)
