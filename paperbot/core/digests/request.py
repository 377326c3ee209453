"""What a digest is built from: the settings it reads (DigestConfig) and one build's inputs
(DigestRequest)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from paperbot.config import DigestSettings, EngageSettings, RankingSettings, Settings
from paperbot.core.digests.cache import DigestCache


@dataclass(frozen=True)
class DigestConfig:
    """The settings sections a digest reads: its own, the ranking weights, and the scheduled
    sources whose health it reports."""

    digest: DigestSettings
    ranking: RankingSettings
    sources: tuple[str, ...]
    # The channel's taste (learned from its feedback) re-ranks the candidates.
    engage: EngageSettings = field(default_factory=EngageSettings)

    @classmethod
    def of(cls, settings: Settings) -> DigestConfig:
        """From the whole settings (the service's, a test's)."""
        sources = tuple(settings.scheduled_sources())
        return cls(settings.digest, settings.ranking, sources, settings.engage)


@dataclass(frozen=True)
class DigestRequest:
    """One digest to build: as of `now`, `missed_slots` after the last one posted, with a
    tick's shared cache; `manual` when a person asked for it (`/papers digest`)."""

    now: datetime
    missed_slots: int = 0
    cache: DigestCache | None = None
    manual: bool = False


__all__ = ["DigestConfig", "DigestRequest"]
