"""Paper sources: Hugging Face Daily Papers, arXiv, JSONL files (each yields PaperIn)."""

from paperbot.core.sources.base import PaperIn, SourceError

__all__ = ["PaperIn", "SourceError"]
