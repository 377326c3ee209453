"""Paper sources: Hugging Face Daily Papers, arXiv, JSONL files (each yields PaperIn)."""

from paperbot.core.papers.sources.base import PaperIn, SourceError

__all__ = ["PaperIn", "SourceError"]
