"""Compatibility for branches written before the move to paperbot.core.search (drop at merge)."""

from __future__ import annotations

from paperbot.core.search.hits import SearchHits
from paperbot.core.search.store import SearchIndex
from paperbot.core.search.topics import TopicMatch

__all__ = ["SearchHits", "SearchIndex", "TopicMatch"]
