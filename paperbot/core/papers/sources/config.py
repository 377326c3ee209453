"""The settings sections the paper sources read (hf, arxiv, source_http), as one value."""

from __future__ import annotations

from dataclasses import dataclass

from paperbot.config import ArxivSettings, HFSettings, Settings, SourceHttpSettings


@dataclass(frozen=True)
class SourceSettings:
    """What fetching papers reads of the settings, and nothing else."""

    hf: HFSettings
    arxiv: ArxivSettings
    http: SourceHttpSettings

    @classmethod
    def of(cls, settings: Settings) -> SourceSettings:
        return cls(settings.hf, settings.arxiv, settings.source_http)


__all__ = ["SourceSettings"]
